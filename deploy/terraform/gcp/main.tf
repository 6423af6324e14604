# FLINT Cloud on Google Cloud: a private GKE Autopilot cluster runs deploy/k8s (API, job workers
# scaled on the queue depth, Dask scheduler and workers); Cloud SQL for PostgreSQL on a private
# address only; job files on Filestore (NFS, mounted at /data by every pod); the database URL in
# Secret Manager, mounted as a file through GKE's Secret Manager add-on by a Kubernetes service
# account bound (Workload Identity) to a Google service account that may read that secret only.

locals {
  labels = merge({ application = "flintcloud" }, var.labels)
  # The Kubernetes service account of deploy/k8s (namespace flintcloud, name flintcloud).
  workload_member = "serviceAccount:${var.project_id}.svc.id.goog[flintcloud/flintcloud]"
}

data "google_project" "current" {
  project_id = var.project_id
}

# -- network: private nodes, private database, private file share -------------------------------
resource "google_compute_network" "main" {
  project                 = var.project_id
  name                    = "${var.name}-vpc"
  auto_create_subnetworks = false
}

resource "google_compute_subnetwork" "main" {
  project                  = var.project_id
  name                     = "${var.name}-nodes"
  region                   = var.region
  network                  = google_compute_network.main.id
  ip_cidr_range            = var.subnet_cidr
  private_ip_google_access = true
  secondary_ip_range {
    range_name    = "pods"
    ip_cidr_range = var.pods_cidr
  }
  secondary_ip_range {
    range_name    = "services"
    ip_cidr_range = var.services_cidr
  }
  log_config {
    aggregation_interval = "INTERVAL_5_MIN"
    flow_sampling        = 0.5
    metadata             = "INCLUDE_ALL_METADATA"
  }
}

# Nothing enters the network from outside but the load balancer's health checks and traffic to
# the API's pods (GKE adds those rules itself for the API's Ingress); everything else is denied
# and logged.
resource "google_compute_firewall" "deny_ingress" {
  project   = var.project_id
  name      = "${var.name}-deny-ingress"
  network   = google_compute_network.main.id
  direction = "INGRESS"
  priority  = 65534
  deny {
    protocol = "all"
  }
  source_ranges = ["0.0.0.0/0"]
  log_config {
    metadata = "INCLUDE_ALL_METADATA"
  }
}

# Private nodes pull the image and reach Google APIs through Cloud NAT / Private Google Access.
resource "google_compute_router" "main" {
  project = var.project_id
  name    = "${var.name}-router"
  region  = var.region
  network = google_compute_network.main.id
}

resource "google_compute_router_nat" "main" {
  project                            = var.project_id
  name                               = "${var.name}-nat"
  router                             = google_compute_router.main.name
  region                             = var.region
  nat_ip_allocate_option             = "AUTO_ONLY"
  source_subnetwork_ip_ranges_to_nat = "ALL_SUBNETWORKS_ALL_IP_RANGES"
  log_config {
    enable = true
    filter = "ERRORS_ONLY"
  }
}

resource "google_compute_global_address" "services" {
  project       = var.project_id
  name          = "${var.name}-private-services"
  purpose       = "VPC_PEERING"
  address_type  = "INTERNAL"
  prefix_length = 20
  network       = google_compute_network.main.id
}

resource "google_service_networking_connection" "main" {
  network                 = google_compute_network.main.id
  service                 = "servicenetworking.googleapis.com"
  reserved_peering_ranges = [google_compute_global_address.services.name]
}

# -- identities -----------------------------------------------------------------------------------
# The nodes' identity: write logs and metrics, pull images; nothing else.
resource "google_service_account" "nodes" {
  project      = var.project_id
  account_id   = "${var.name}-nodes"
  display_name = "FLINT Cloud GKE nodes"
}

resource "google_project_iam_member" "nodes" {
  for_each = toset([
    "roles/logging.logWriter",
    "roles/monitoring.metricWriter",
    "roles/monitoring.viewer",
    "roles/artifactregistry.reader",
  ])
  project = var.project_id
  role    = each.value
  member  = "serviceAccount:${google_service_account.nodes.email}"
}

# The workloads' identity: read the database URL secret (granted on that secret only).
resource "google_service_account" "app" {
  project      = var.project_id
  account_id   = "${var.name}-app"
  display_name = "FLINT Cloud API and workers"
}

resource "google_service_account_iam_member" "workload_identity" {
  service_account_id = google_service_account.app.name
  role               = "roles/iam.workloadIdentityUser"
  member             = local.workload_member
}

# -- the cluster ----------------------------------------------------------------------------------
resource "google_container_cluster" "main" {
  #checkov:skip=CKV_GCP_66:Binary Authorization needs an attestor and policy of the operator's own; enable it in a wrapper once images are signed.
  #checkov:skip=CKV_GCP_65:RBAC through Google Groups needs the organisation's gke-security-groups group; set authenticator_groups_config in a wrapper where it exists.
  #checkov:skip=CKV_GCP_13:Client certificates are disabled (the default); checkov's check wants the legacy block spelled out, which Autopilot refuses.
  #checkov:skip=CKV_GCP_69:Autopilot always runs the GKE metadata server (Workload Identity); node_config cannot be set on Autopilot.
  #checkov:skip=CKV_GCP_68:Autopilot nodes are always Shielded GKE nodes with Secure Boot; node_config cannot be set on Autopilot.
  #checkov:skip=CKV_GCP_61:Intranode visibility is managed by Autopilot (Dataplane V2) and cannot be set.
  #checkov:skip=CKV_GCP_24:PodSecurityPolicy was removed from Kubernetes (1.25); the namespace enforces Pod Security Admission's restricted profile (deploy/k8s/base/namespace.yaml).
  project             = var.project_id
  name                = var.name
  location            = var.region
  enable_autopilot    = true
  network             = google_compute_network.main.id
  subnetwork          = google_compute_subnetwork.main.id
  deletion_protection = true
  resource_labels     = local.labels
  ip_allocation_policy {
    cluster_secondary_range_name  = "pods"
    services_secondary_range_name = "services"
  }
  private_cluster_config {
    enable_private_nodes    = true
    enable_private_endpoint = false # kubectl from admin_cidrs only (master_authorized_networks_config)
    master_ipv4_cidr_block  = var.master_cidr
  }
  master_authorized_networks_config {
    dynamic "cidr_blocks" {
      for_each = var.admin_cidrs
      content {
        display_name = cidr_blocks.key
        cidr_block   = cidr_blocks.value
      }
    }
  }
  release_channel {
    channel = "REGULAR"
  }
  secret_manager_config {
    enabled = true # the Secret Manager CSI add-on: secrets as files (deploy/k8s/overlays/gke)
  }
  cluster_autoscaling {
    auto_provisioning_defaults {
      service_account = google_service_account.nodes.email
      oauth_scopes    = ["https://www.googleapis.com/auth/cloud-platform"]
    }
  }
  logging_config {
    enable_components = ["SYSTEM_COMPONENTS", "WORKLOADS"]
  }
  monitoring_config {
    enable_components = ["SYSTEM_COMPONENTS"]
    managed_prometheus {
      enabled = true # scrapes /metrics; the worker HPA reads flintcloud_queue_depth from it
    }
  }
  network_policy {
    enabled = false # Autopilot enforces NetworkPolicy with Dataplane V2
  }
  datapath_provider = "ADVANCED_DATAPATH"
}
