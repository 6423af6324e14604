# FLINT Cloud on Azure Container Apps: the API (public, HTTPS only), job workers scaled by KEDA
# on the jobs waiting or running in PostgreSQL, an optional Dask cluster for GCBM blocks, all
# in a virtual network; PostgreSQL Flexible Server reachable only inside it; job files on an
# Azure Files share; the database URL in Key Vault, read by a user-assigned identity.

data "azurerm_client_config" "current" {}

locals {
  tags      = merge({ application = "flintcloud" }, var.tags)
  data_dir  = "/data"
  secrets   = "/mnt/secrets"
  scheduler = "tcp://${var.name}-dask-scheduler:8786"
  # Settings the API and the workers share (docs/service.md): paths and addresses only.
  common_env = merge(
    {
      FLINTCLOUD_DATA_DIR          = local.data_dir
      FLINTCLOUD_DATABASE_URL_FILE = "${local.secrets}/database-url"
    },
    var.enable_dask ? { FLINTCLOUD_DASK_SCHEDULER = local.scheduler } : {}
  )
}

resource "azurerm_resource_group" "main" {
  name     = "${var.name}-rg"
  location = var.location
  tags     = local.tags
}

# -- logs ---------------------------------------------------------------------------------------
resource "azurerm_log_analytics_workspace" "main" {
  name                = "${var.name}-logs"
  location            = azurerm_resource_group.main.location
  resource_group_name = azurerm_resource_group.main.name
  sku                 = "PerGB2018"
  retention_in_days   = var.log_retention_days
  tags                = local.tags
}

# -- network ------------------------------------------------------------------------------------
resource "azurerm_virtual_network" "main" {
  name                = "${var.name}-vnet"
  location            = azurerm_resource_group.main.location
  resource_group_name = azurerm_resource_group.main.name
  address_space       = [var.vnet_cidr]
  tags                = local.tags
}

resource "azurerm_subnet" "apps" {
  name                            = "apps"
  resource_group_name             = azurerm_resource_group.main.name
  virtual_network_name            = azurerm_virtual_network.main.name
  address_prefixes                = [cidrsubnet(var.vnet_cidr, 7, 0)] # a /23, as Container Apps needs
  default_outbound_access_enabled = false
  service_endpoints               = ["Microsoft.KeyVault", "Microsoft.Storage"]
  delegation {
    name = "container-apps"
    service_delegation {
      name    = "Microsoft.App/environments"
      actions = ["Microsoft.Network/virtualNetworks/subnets/join/action"]
    }
  }
}

resource "azurerm_subnet" "database" {
  name                            = "database"
  resource_group_name             = azurerm_resource_group.main.name
  virtual_network_name            = azurerm_virtual_network.main.name
  address_prefixes                = [cidrsubnet(var.vnet_cidr, 8, 2)]
  default_outbound_access_enabled = false
  delegation {
    name = "postgresql"
    service_delegation {
      name    = "Microsoft.DBforPostgreSQL/flexibleServers"
      actions = ["Microsoft.Network/virtualNetworks/subnets/join/action"]
    }
  }
}

resource "azurerm_network_security_group" "database" {
  name                = "${var.name}-database"
  location            = azurerm_resource_group.main.location
  resource_group_name = azurerm_resource_group.main.name
  tags                = local.tags
  # PostgreSQL from the apps' subnet only; everything else from outside is denied by default.
  security_rule {
    name                       = "postgresql-from-apps"
    priority                   = 100
    direction                  = "Inbound"
    access                     = "Allow"
    protocol                   = "Tcp"
    source_port_range          = "*"
    destination_port_range     = "5432"
    source_address_prefix      = cidrsubnet(var.vnet_cidr, 7, 0)
    destination_address_prefix = "*"
  }
}

resource "azurerm_subnet_network_security_group_association" "database" {
  subnet_id                 = azurerm_subnet.database.id
  network_security_group_id = azurerm_network_security_group.database.id
}

resource "azurerm_network_security_group" "apps" {
  name                = "${var.name}-apps"
  location            = azurerm_resource_group.main.location
  resource_group_name = azurerm_resource_group.main.name
  tags                = local.tags
  # From outside: HTTPS to the API's ingress only (HTTP is answered with a redirect by the
  # platform, so port 80 is not opened). Inside the network, the default rules apply.
  security_rule {
    name                       = "https-from-internet"
    priority                   = 100
    direction                  = "Inbound"
    access                     = "Allow"
    protocol                   = "Tcp"
    source_port_range          = "*"
    destination_port_range     = "443"
    source_address_prefix      = "Internet"
    destination_address_prefix = "*"
  }
}

resource "azurerm_subnet_network_security_group_association" "apps" {
  subnet_id                 = azurerm_subnet.apps.id
  network_security_group_id = azurerm_network_security_group.apps.id
}

resource "azurerm_private_dns_zone" "postgres" {
  name                = "${var.name}.private.postgres.database.azure.com"
  resource_group_name = azurerm_resource_group.main.name
  tags                = local.tags
}

resource "azurerm_private_dns_zone_virtual_network_link" "postgres" {
  name                  = "${var.name}-postgres"
  resource_group_name   = azurerm_resource_group.main.name
  private_dns_zone_name = azurerm_private_dns_zone.postgres.name
  virtual_network_id    = azurerm_virtual_network.main.id
  tags                  = local.tags
}

# -- identity: one per role, each with only what it reads ---------------------------------------
resource "azurerm_user_assigned_identity" "app" {
  name                = "${var.name}-app"
  location            = azurerm_resource_group.main.location
  resource_group_name = azurerm_resource_group.main.name
  tags                = local.tags
}

resource "azurerm_role_assignment" "pull" {
  scope                = var.registry_id
  role_definition_name = "AcrPull"
  principal_id         = azurerm_user_assigned_identity.app.principal_id
}
