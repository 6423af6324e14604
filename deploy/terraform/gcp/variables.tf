variable "project_id" {
  description = "The Google Cloud project."
  type        = string
}

variable "region" {
  description = "Region of the cluster, the database and the file share, e.g. northamerica-northeast1."
  type        = string
}

variable "name" {
  description = "Prefix of every resource's name (lower case letters, digits and hyphens)."
  type        = string
  default     = "flintcloud"
}

variable "subnet_cidr" {
  description = "Primary range of the cluster's subnet (nodes)."
  type        = string
  default     = "10.50.0.0/20"
}

variable "pods_cidr" {
  description = "Secondary range for pods."
  type        = string
  default     = "10.52.0.0/14"
}

variable "services_cidr" {
  description = "Secondary range for services."
  type        = string
  default     = "10.56.0.0/20"
}

variable "master_cidr" {
  description = "The control plane's private /28."
  type        = string
  default     = "172.16.0.16/28"
}

variable "admin_cidrs" {
  description = "Networks allowed to reach the cluster's control plane (kubectl), e.g. {office = \"203.0.113.0/24\"}."
  type        = map(string)
  default     = {}
}

variable "database_tier" {
  description = "Cloud SQL machine tier."
  type        = string
  default     = "db-custom-2-7680"
}

variable "filestore_capacity_gb" {
  description = "Size of the Filestore share holding job and simulation files (BASIC_HDD: 1024 at least)."
  type        = number
  default     = 1024
}

variable "labels" {
  description = "Labels on every resource that takes them."
  type        = map(string)
  default     = {}
}
