# Names and addresses only: no secret, password or key is ever an output.
output "api_url" {
  description = "The API's HTTPS address."
  value       = "https://${azurerm_container_app.api.ingress[0].fqdn}"
}

output "resource_group" {
  description = "The resource group holding everything."
  value       = azurerm_resource_group.main.name
}

output "key_vault_name" {
  description = "Key Vault holding the database URLs (secrets database-url and scaler-url)."
  value       = azurerm_key_vault.main.name
}

output "database_host" {
  description = "The PostgreSQL server's private name (reachable inside the virtual network only)."
  value       = azurerm_postgresql_flexible_server.main.fqdn
}

output "log_analytics_workspace_id" {
  description = "Where the containers' logs go."
  value       = azurerm_log_analytics_workspace.main.id
}

output "identity_client_id" {
  description = "Client id of the apps' user-assigned identity."
  value       = azurerm_user_assigned_identity.app.client_id
}
