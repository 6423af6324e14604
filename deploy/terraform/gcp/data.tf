# -- Cloud SQL for PostgreSQL: a private address only, TLS only ---------------------------------
resource "random_id" "database" {
  byte_length = 3
}

resource "google_sql_database_instance" "main" {
  #checkov:skip=CKV_GCP_79:POSTGRES_17 is the newest major version Cloud SQL offers; checkov 3.3 expects another name.
  #checkov:skip=CKV_GCP_6:TLS is required by ssl_mode = ENCRYPTED_ONLY; the require_ssl argument checkov looks for was removed in provider 6.
  project             = var.project_id
  name                = "${var.name}-pg-${random_id.database.hex}"
  region              = var.region
  database_version    = "POSTGRES_17"
  deletion_protection = true
  depends_on          = [google_service_networking_connection.main]
  settings {
    tier              = var.database_tier
    availability_type = "REGIONAL"
    user_labels       = local.labels
    ip_configuration {
      ipv4_enabled    = false # no public address
      private_network = google_compute_network.main.id
      ssl_mode        = "ENCRYPTED_ONLY"
    }
    backup_configuration {
      enabled                        = true
      point_in_time_recovery_enabled = true
    }
    # What checkov and CIS ask of PostgreSQL's logging; statements are not logged (job inputs)
    # beyond DDL, and their durations without text.
    database_flags {
      name  = "log_checkpoints"
      value = "on"
    }
    database_flags {
      name  = "log_connections"
      value = "on"
    }
    database_flags {
      name  = "log_disconnections"
      value = "on"
    }
    database_flags {
      name  = "log_lock_waits"
      value = "on"
    }
    database_flags {
      name  = "log_min_messages"
      value = "error"
    }
    database_flags {
      name  = "log_min_error_statement"
      value = "error"
    }
    database_flags {
      name  = "log_temp_files"
      value = "0"
    }
    database_flags {
      name  = "log_min_duration_statement"
      value = "-1"
    }
    database_flags {
      name  = "log_hostname"
      value = "on"
    }
    database_flags {
      name  = "log_duration"
      value = "on"
    }
    database_flags {
      name  = "log_statement"
      value = "ddl"
    }
    database_flags {
      name  = "cloudsql.enable_pgaudit"
      value = "on"
    }
  }
}

resource "google_sql_database" "main" {
  project  = var.project_id
  name     = "flintcloud"
  instance = google_sql_database_instance.main.name
}

resource "random_password" "database" {
  length  = 40
  special = false # it goes into a URL
}

resource "google_sql_user" "main" {
  project  = var.project_id
  name     = "flintcloud"
  instance = google_sql_database_instance.main.name
  password = random_password.database.result
}

# -- Secret Manager: the database URL, read by the workloads' service account only ---------------
resource "google_secret_manager_secret" "database_url" {
  project   = var.project_id
  secret_id = "${var.name}-database-url"
  labels    = local.labels
  replication {
    user_managed {
      replicas {
        location = var.region
      }
    }
  }
}

resource "google_secret_manager_secret_version" "database_url" {
  secret      = google_secret_manager_secret.database_url.id
  secret_data = "postgresql+psycopg://flintcloud:${random_password.database.result}@${google_sql_database_instance.main.private_ip_address}:5432/flintcloud?sslmode=require"
}

resource "google_secret_manager_secret_iam_member" "app" {
  project   = var.project_id
  secret_id = google_secret_manager_secret.database_url.secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.app.email}"
}

# -- Filestore: job and simulation files, NFS at /data in every pod --------------------------------
resource "google_filestore_instance" "data" {
  project  = var.project_id
  name     = "${var.name}-data"
  location = "${var.region}-a"
  tier     = "BASIC_HDD"
  labels   = local.labels
  file_shares {
    name        = "data"
    capacity_gb = var.filestore_capacity_gb
    nfs_export_options {
      ip_ranges   = [var.pods_cidr, var.subnet_cidr] # the cluster only
      access_mode = "READ_WRITE"
      squash_mode = "NO_ROOT_SQUASH"
    }
  }
  networks {
    network      = google_compute_network.main.name
    modes        = ["MODE_IPV4"]
    connect_mode = "PRIVATE_SERVICE_ACCESS"
  }
  depends_on = [google_service_networking_connection.main]
}
