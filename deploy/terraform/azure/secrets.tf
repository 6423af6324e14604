# -- Key Vault: the database URLs, never in an environment variable or an output ------------------
resource "azurerm_key_vault" "main" {
  #checkov:skip=CKV_AZURE_189:Public network access stays on so that the Terraform runner (allowed_admin_cidrs) can write the secrets; network_acls deny every other address.
  #checkov:skip=CKV2_AZURE_32:No private endpoint: the apps reach the vault through the subnet's service endpoint, which network_acls allow.
  name                          = "${var.name}-kv-${random_string.suffix.result}"
  location                      = azurerm_resource_group.main.location
  resource_group_name           = azurerm_resource_group.main.name
  tenant_id                     = data.azurerm_client_config.current.tenant_id
  sku_name                      = "standard"
  rbac_authorization_enabled    = true
  purge_protection_enabled      = true
  soft_delete_retention_days    = 90
  public_network_access_enabled = true
  network_acls {
    default_action             = "Deny"
    bypass                     = "AzureServices"
    ip_rules                   = var.allowed_admin_cidrs
    virtual_network_subnet_ids = [azurerm_subnet.apps.id]
  }
  tags = local.tags
}

resource "random_string" "suffix" {
  length  = 5
  special = false
  upper   = false
}

# Whoever runs Terraform writes the secrets; the apps' identity only reads its two.
resource "azurerm_role_assignment" "deployer_secrets" {
  scope                = azurerm_key_vault.main.id
  role_definition_name = "Key Vault Secrets Officer"
  principal_id         = data.azurerm_client_config.current.object_id
}

resource "random_password" "database" {
  length  = 40
  special = false # it goes into a URL
}

locals {
  database_host = azurerm_postgresql_flexible_server.main.fqdn
  # TLS is required by the server (require_secure_transport) and by the clients (sslmode).
  database_path = "flintcloud:${random_password.database.result}@${local.database_host}:5432/flintcloud?sslmode=require"
}

resource "azurerm_key_vault_secret" "database_url" {
  name            = "database-url"
  key_vault_id    = azurerm_key_vault.main.id
  value           = "postgresql+psycopg://${local.database_path}"
  content_type    = "text/plain; SQLAlchemy URL"
  expiration_date = timeadd(time_static.secrets.rfc3339, "8760h") # rotate yearly: re-apply after changing random_password.database's keepers
  depends_on      = [azurerm_role_assignment.deployer_secrets]
}

# The same database for KEDA's postgresql scaler, which takes a libpq URL.
resource "azurerm_key_vault_secret" "scaler_url" {
  name            = "scaler-url"
  key_vault_id    = azurerm_key_vault.main.id
  value           = "postgresql://${local.database_path}"
  content_type    = "text/plain; libpq URL"
  expiration_date = timeadd(time_static.secrets.rfc3339, "8760h")
  depends_on      = [azurerm_role_assignment.deployer_secrets]
}

resource "time_static" "secrets" {}

resource "azurerm_role_assignment" "read_database_url" {
  scope                = azurerm_key_vault_secret.database_url.resource_versionless_id
  role_definition_name = "Key Vault Secrets User"
  principal_id         = azurerm_user_assigned_identity.app.principal_id
}

resource "azurerm_role_assignment" "read_scaler_url" {
  scope                = azurerm_key_vault_secret.scaler_url.resource_versionless_id
  role_definition_name = "Key Vault Secrets User"
  principal_id         = azurerm_user_assigned_identity.app.principal_id
}

# -- PostgreSQL: inside the virtual network only ---------------------------------------------------
resource "azurerm_postgresql_flexible_server" "main" {
  #checkov:skip=CKV2_AZURE_57:The server is VNet-integrated (delegated_subnet_id, public access off), the alternative to a private endpoint: it has no public address at all.
  name                          = "${var.name}-pg-${random_string.suffix.result}"
  location                      = azurerm_resource_group.main.location
  resource_group_name           = azurerm_resource_group.main.name
  version                       = "16"
  sku_name                      = var.postgres_sku
  storage_mb                    = 65536
  backup_retention_days         = 35
  geo_redundant_backup_enabled  = true
  delegated_subnet_id           = azurerm_subnet.database.id
  private_dns_zone_id           = azurerm_private_dns_zone.postgres.id
  public_network_access_enabled = false
  administrator_login           = "flintcloud"
  administrator_password        = random_password.database.result
  zone                          = "1"
  high_availability {
    mode = "ZoneRedundant"
  }
  tags       = local.tags
  depends_on = [azurerm_private_dns_zone_virtual_network_link.postgres]
}

resource "azurerm_postgresql_flexible_server_database" "main" {
  name      = "flintcloud"
  server_id = azurerm_postgresql_flexible_server.main.id
  charset   = "UTF8"
  collation = "en_US.utf8"
}

resource "azurerm_postgresql_flexible_server_configuration" "tls" {
  for_each = {
    require_secure_transport = "on"
    ssl_min_protocol_version = "TLSv1.2"
    log_checkpoints          = "on"
    log_connections          = "on"
    log_disconnections       = "on"
    connection_throttling    = "on"
  }
  name      = replace(each.key, "connection_throttling", "connection_throttle.enable")
  server_id = azurerm_postgresql_flexible_server.main.id
  value     = each.value
}

resource "azurerm_monitor_diagnostic_setting" "postgres" {
  name                       = "logs"
  target_resource_id         = azurerm_postgresql_flexible_server.main.id
  log_analytics_workspace_id = azurerm_log_analytics_workspace.main.id
  enabled_log { category_group = "allLogs" }
}

resource "azurerm_monitor_diagnostic_setting" "key_vault" {
  name                       = "logs"
  target_resource_id         = azurerm_key_vault.main.id
  log_analytics_workspace_id = azurerm_log_analytics_workspace.main.id
  enabled_log { category_group = "audit" }
}
