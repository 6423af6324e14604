# Names and addresses only: no password or secret value is ever an output.
output "cluster_name" {
  description = "The GKE Autopilot cluster (gcloud container clusters get-credentials NAME --region REGION)."
  value       = google_container_cluster.main.name
}

output "database_private_ip" {
  description = "Cloud SQL's private address (reachable inside the network only)."
  value       = google_sql_database_instance.main.private_ip_address
}

output "database_url_secret" {
  description = "Secret Manager secret holding the database URL (deploy/k8s/overlays/gke mounts it)."
  value       = google_secret_manager_secret.database_url.id
}

output "filestore_address" {
  description = "NFS server and export of the shared files, for the overlay's PersistentVolume."
  value       = "${google_filestore_instance.data.networks[0].ip_addresses[0]}:/${google_filestore_instance.data.file_shares[0].name}"
}

output "workload_service_account" {
  description = "Google service account of the flintcloud Kubernetes service account (Workload Identity annotation)."
  value       = google_service_account.app.email
}
