variable "name" {
  description = "Prefix of every resource's name (lower case letters and digits, 3-12 characters)."
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9]{2,11}$", var.name))
    error_message = "name: 3-12 lower case letters and digits, starting with a letter."
  }
}

variable "location" {
  description = "Azure region, e.g. canadacentral."
  type        = string
}

variable "image" {
  description = "The FLINT Cloud image (the repository's Dockerfile), pinned by digest: REGISTRY/flintcloud@sha256:..."
  type        = string
}

variable "registry_id" {
  description = "Id of the Azure Container Registry holding the image (the identity gets AcrPull on it only)."
  type        = string
}

variable "registry_server" {
  description = "Login server of that registry, e.g. myregistry.azurecr.io."
  type        = string
}

variable "vnet_cidr" {
  description = "Address space of the virtual network (a /16 leaves room for both subnets)."
  type        = string
  default     = "10.40.0.0/16"
}

variable "allowed_admin_cidrs" {
  description = "Addresses allowed to manage Key Vault's secrets and the file share from outside the network (the Terraform runner), e.g. [\"203.0.113.4/32\"]."
  type        = list(string)
  default     = []
}

variable "api_min_replicas" {
  description = "API replicas that stay up (HTTP scales them further)."
  type        = number
  default     = 1
}

variable "worker_max_replicas" {
  description = "Most job workers; they scale from 0 with the jobs accepted or running."
  type        = number
  default     = 10
}

variable "enable_dask" {
  description = "Run a Dask scheduler and workers, and hand GCBM jobs' blocks to them."
  type        = bool
  default     = true
}

variable "dask_worker_max_replicas" {
  description = "Most Dask workers (each runs one block at a time on 1 vCPU / 4 GiB)."
  type        = number
  default     = 16
}

variable "postgres_sku" {
  description = "Azure Database for PostgreSQL Flexible Server SKU."
  type        = string
  default     = "GP_Standard_D2ds_v5"
}

variable "file_share_quota_gb" {
  description = "Size of the Azure Files share holding job and simulation files."
  type        = number
  default     = 1024
}

variable "log_retention_days" {
  description = "How long Log Analytics keeps the containers' logs."
  type        = number
  default     = 90
}

variable "tags" {
  description = "Tags on every resource."
  type        = map(string)
  default     = {}
}
