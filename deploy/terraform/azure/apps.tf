# -- Azure Files: job and simulation files, the same share at /data in every container ------------
resource "azurerm_storage_account" "files" {
  #checkov:skip=CKV2_AZURE_40:Container Apps mount Azure Files (SMB) with the account key only; the key lives in the Container Apps environment's storage definition, never in an app's environment.
  #checkov:skip=CKV2_AZURE_1:Encrypted at rest with Microsoft-managed keys; a customer-managed key needs a key and identity of the operator's choosing (add customer_managed_key in a wrapper).
  #checkov:skip=CKV2_AZURE_33:No private endpoint: the share is reached through the apps subnet's service endpoint and network rules deny every other address.
  #checkov:skip=CKV_AZURE_33:Queue service logging does not apply: the account holds a file share only, no queues.
  #checkov:skip=CKV2_AZURE_38:Soft delete is set for the file share (share_properties.retention_policy); there are no blobs.
  #checkov:skip=CKV_AZURE_59:Public network access is on but network_rules deny every address except the apps subnet (service endpoint) and allowed_admin_cidrs; Container Apps mount the share through the service endpoint.
  #checkov:skip=CKV2_AZURE_21:Blob logging does not apply: the account holds a file share only.
  name                            = "${var.name}files${random_string.suffix.result}"
  location                        = azurerm_resource_group.main.location
  resource_group_name             = azurerm_resource_group.main.name
  account_kind                    = "StorageV2"
  account_tier                    = "Standard"
  account_replication_type        = "GZRS"
  min_tls_version                 = "TLS1_2"
  https_traffic_only_enabled      = true
  allow_nested_items_to_be_public = false
  public_network_access_enabled   = true # restricted by network_rules below
  shared_access_key_enabled       = true # the SMB mount's credential (see the skip above)
  network_rules {
    default_action             = "Deny"
    bypass                     = ["AzureServices", "Logging", "Metrics"]
    ip_rules                   = var.allowed_admin_cidrs
    virtual_network_subnet_ids = [azurerm_subnet.apps.id]
  }
  share_properties {
    retention_policy { days = 14 }
    smb {
      versions                        = ["SMB3.1.1"]
      channel_encryption_type         = ["AES-256-GCM"]
      authentication_types            = ["NTLMv2"]
      kerberos_ticket_encryption_type = ["AES-256"]
    }
  }
  sas_policy {
    expiration_period = "01.00:00:00"
  }
  tags = local.tags
}

resource "azurerm_storage_share" "data" {
  name               = "flintcloud-data"
  storage_account_id = azurerm_storage_account.files.id
  quota              = var.file_share_quota_gb
  enabled_protocol   = "SMB"
}

# -- the Container Apps environment: in the virtual network, logs to Log Analytics ----------------
resource "azurerm_container_app_environment" "main" {
  name                           = "${var.name}-env"
  location                       = azurerm_resource_group.main.location
  resource_group_name            = azurerm_resource_group.main.name
  log_analytics_workspace_id     = azurerm_log_analytics_workspace.main.id
  infrastructure_subnet_id       = azurerm_subnet.apps.id
  internal_load_balancer_enabled = false # the API is public over HTTPS; nothing else has ingress from outside
  workload_profile {
    name                  = "Consumption"
    workload_profile_type = "Consumption"
  }
  tags = local.tags
}

resource "azurerm_container_app_environment_storage" "data" {
  name                         = "data"
  container_app_environment_id = azurerm_container_app_environment.main.id
  account_name                 = azurerm_storage_account.files.name
  share_name                   = azurerm_storage_share.data.name
  access_key                   = azurerm_storage_account.files.primary_access_key
  access_mode                  = "ReadWrite"
}

locals {
  identity_id = azurerm_user_assigned_identity.app.id
  # The apps read their secrets from Key Vault through the identity; each is mounted as a file.
  key_vault_secrets = {
    "database-url" = azurerm_key_vault_secret.database_url.versionless_id
    "scaler-url"   = azurerm_key_vault_secret.scaler_url.versionless_id
  }
  # Jobs waiting for a worker or running: what the workers scale on (one job per worker).
  demand_query = "SELECT count(*) FROM jobs WHERE status IN ('accepted', 'running')"
}

# -- the API -------------------------------------------------------------------------------------
resource "azurerm_container_app" "api" {
  name                         = "${var.name}-api"
  container_app_environment_id = azurerm_container_app_environment.main.id
  resource_group_name          = azurerm_resource_group.main.name
  revision_mode                = "Single"
  workload_profile_name        = "Consumption"
  identity {
    type         = "UserAssigned"
    identity_ids = [local.identity_id]
  }
  registry {
    server   = var.registry_server
    identity = local.identity_id
  }
  secret {
    name                = "database-url"
    key_vault_secret_id = local.key_vault_secrets["database-url"]
    identity            = local.identity_id
  }
  ingress {
    external_enabled           = true
    target_port                = 8080
    transport                  = "http"
    allow_insecure_connections = false # HTTPS only: HTTP is redirected
    traffic_weight {
      latest_revision = true
      percentage      = 100
    }
  }
  template {
    min_replicas = var.api_min_replicas
    max_replicas = 10
    container {
      name    = "api"
      image   = var.image
      cpu     = 0.5
      memory  = "1Gi"
      command = ["flintcloud"]
      args    = ["serve", "--host", "0.0.0.0", "--port", "8080", "--data-dir", local.data_dir, "--workers", "0"]
      dynamic "env" {
        for_each = local.common_env
        content {
          name  = env.key
          value = env.value
        }
      }
      liveness_probe {
        transport = "HTTP"
        port      = 8080
        path      = "/check"
      }
      readiness_probe {
        transport = "HTTP"
        port      = 8080
        path      = "/check"
      }
      volume_mounts {
        name = "data"
        path = local.data_dir
      }
      volume_mounts {
        name = "secrets"
        path = local.secrets
      }
    }
    http_scale_rule {
      name                = "http"
      concurrent_requests = "50"
    }
    volume {
      name         = "data"
      storage_type = "AzureFile"
      storage_name = azurerm_container_app_environment_storage.data.name
    }
    volume {
      name         = "secrets"
      storage_type = "Secret" # each of the app's secrets as a file: /mnt/secrets/database-url
    }
  }
  tags = local.tags
}

# -- job workers: 0..N on the jobs waiting or running (KEDA's postgresql scaler) -------------------
resource "azurerm_container_app" "worker" {
  name                         = "${var.name}-worker"
  container_app_environment_id = azurerm_container_app_environment.main.id
  resource_group_name          = azurerm_resource_group.main.name
  revision_mode                = "Single"
  workload_profile_name        = "Consumption"
  identity {
    type         = "UserAssigned"
    identity_ids = [local.identity_id]
  }
  registry {
    server   = var.registry_server
    identity = local.identity_id
  }
  dynamic "secret" {
    for_each = local.key_vault_secrets
    content {
      name                = secret.key
      key_vault_secret_id = secret.value
      identity            = local.identity_id
    }
  }
  template {
    min_replicas = 0
    max_replicas = var.worker_max_replicas
    container {
      name    = "worker"
      image   = var.image
      cpu     = 2
      memory  = "4Gi" # a GCBM block run here (without Dask) peaks under 2 GiB
      command = ["flintcloud"]
      args    = ["worker", "--data-dir", local.data_dir, "--processes", "1"]
      dynamic "env" {
        for_each = local.common_env
        content {
          name  = env.key
          value = env.value
        }
      }
      volume_mounts {
        name = "data"
        path = local.data_dir
      }
      volume_mounts {
        name = "secrets"
        path = local.secrets
      }
    }
    custom_scale_rule {
      name             = "jobs"
      custom_rule_type = "postgresql"
      metadata = {
        query            = local.demand_query
        targetQueryValue = "1"
      }
      authentication {
        secret_name       = "scaler-url"
        trigger_parameter = "connection"
      }
    }
    volume {
      name         = "data"
      storage_type = "AzureFile"
      storage_name = azurerm_container_app_environment_storage.data.name
    }
    volume {
      name         = "secrets"
      storage_type = "Secret"
    }
  }
  tags = local.tags
}

# -- Dask (optional): a scheduler reachable inside the environment only, workers on CPU ------------
resource "azurerm_container_app" "dask_scheduler" {
  count                        = var.enable_dask ? 1 : 0
  name                         = "${var.name}-dask-scheduler"
  container_app_environment_id = azurerm_container_app_environment.main.id
  resource_group_name          = azurerm_resource_group.main.name
  revision_mode                = "Single"
  workload_profile_name        = "Consumption"
  identity {
    type         = "UserAssigned"
    identity_ids = [local.identity_id]
  }
  registry {
    server   = var.registry_server
    identity = local.identity_id
  }
  ingress {
    external_enabled = false # inside the environment only
    target_port      = 8786
    exposed_port     = 8786
    transport        = "tcp"
    traffic_weight {
      latest_revision = true
      percentage      = 100
    }
  }
  template {
    min_replicas = 1
    max_replicas = 1 # one scheduler: the cluster's state lives in it
    container {
      name    = "scheduler"
      image   = var.image
      cpu     = 1
      memory  = "2Gi"
      command = ["dask"]
      args    = ["scheduler", "--host", "0.0.0.0", "--port", "8786", "--no-dashboard"]
      liveness_probe {
        transport = "TCP"
        port      = 8786
      }
    }
  }
  tags = local.tags
}

resource "azurerm_container_app" "dask_worker" {
  count                        = var.enable_dask ? 1 : 0
  name                         = "${var.name}-dask-worker"
  container_app_environment_id = azurerm_container_app_environment.main.id
  resource_group_name          = azurerm_resource_group.main.name
  revision_mode                = "Single"
  workload_profile_name        = "Consumption"
  identity {
    type         = "UserAssigned"
    identity_ids = [local.identity_id]
  }
  registry {
    server   = var.registry_server
    identity = local.identity_id
  }
  template {
    min_replicas = 1
    max_replicas = var.dask_worker_max_replicas
    container {
      name    = "worker"
      image   = var.image
      cpu     = 1
      memory  = "4Gi"
      command = ["dask"]
      args = ["worker", local.scheduler, "--nworkers", "1", "--nthreads", "1",
      "--memory-limit", "3584MiB", "--local-directory", "/tmp", "--no-dashboard"]
      volume_mounts {
        name = "data"
        path = local.data_dir
      }
    }
    # Blocks keep a worker's core busy: scale on CPU while a run lasts.
    custom_scale_rule {
      name             = "cpu"
      custom_rule_type = "cpu"
      metadata = {
        type  = "Utilization"
        value = "70"
      }
    }
    volume {
      name         = "data"
      storage_type = "AzureFile"
      storage_name = azurerm_container_app_environment_storage.data.name
    }
  }
  tags = local.tags
}
