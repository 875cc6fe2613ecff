//! The one place where each feature's errors become an [`AppError`], and so an HTTP status and
//! the `{"error": ...}` body. Features report failures in their own terms (a catalog conflict, a
//! quota reached, a token expired); which status each gets is decided here, and 5xx causes are
//! logged, never shown.

use crate::auth::AuthError;
use crate::catalog::CatalogError;
use crate::db::StoreError;
use crate::dora::DoraError;
use crate::dora::source::SourceError;
use crate::error::AppError;
use crate::workspaces::cluster::ClusterError;
use crate::workspaces::service::WorkspaceError;

impl From<StoreError> for AppError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Unavailable(_) => AppError::Unavailable("Database unavailable".into()),
            StoreError::Backend(cause) => AppError::Internal(cause.into()),
            StoreError::TimedOut(_) => AppError::Unavailable(
                "The query took longer than the database allows (database.statement_timeout) and was cancelled; narrow it or try again later".into(),
            ),
        }
    }
}

impl From<AuthError> for AppError {
    fn from(err: AuthError) -> Self {
        match err {
            AuthError::Missing | AuthError::NotBearer => AppError::Unauthorized(err.to_string()),
            AuthError::KeysUnavailable(_) => AppError::Unavailable(err.to_string()),
            other => AppError::InvalidToken(other.to_string()),
        }
    }
}

impl From<CatalogError> for AppError {
    fn from(err: CatalogError) -> Self {
        match err {
            CatalogError::Invalid(m) => AppError::BadRequest(m),
            CatalogError::NotFound(m) => AppError::NotFound(m),
            CatalogError::Conflict(m) => AppError::Conflict(m),
            CatalogError::Store(e) => e.into(),
        }
    }
}

impl From<DoraError> for AppError {
    fn from(err: DoraError) -> Self {
        match err {
            DoraError::Invalid(message) => AppError::BadRequest(message),
            DoraError::NotFound(message) => AppError::NotFound(message),
            DoraError::Store(err) => err.into(),
            DoraError::Source(err) => err.into(),
            DoraError::WebhooksOff(message) => AppError::Conflict(message),
            DoraError::Internal(err) => AppError::Internal(err),
        }
    }
}

/// DevLake's database is someone else's: when it is down or lacks a table, the caller reads
/// that (503, 502) and the cause goes to the log.
impl From<SourceError> for AppError {
    fn from(err: SourceError) -> Self {
        match err {
            SourceError::Store(err) => err.into(),
            SourceError::DevLakeUnavailable(cause) => {
                tracing::warn!(%cause, "DevLake's database unavailable");
                AppError::Unavailable("DevLake's database is unavailable".into())
            }
            SourceError::DevLakeSchema(cause) => {
                tracing::error!(%cause, "DevLake's database lacks a table or column");
                AppError::BadGateway(
                    "DevLake's database lacks a table or column this server reads (it needs \
                     the domain layer of DevLake v1.0.1 or later); the server's log names it"
                        .into(),
                )
            }
            SourceError::DevLake(cause) => AppError::Internal(cause.into()),
        }
    }
}

/// Cluster trouble never shows internals: its causes are logged, the caller reads what to do.
impl From<WorkspaceError> for AppError {
    fn from(err: WorkspaceError) -> Self {
        match err {
            WorkspaceError::Cluster(cluster) => match cluster {
                ClusterError::NamespaceMissing(ns) => AppError::BadRequest(format!(
                    "Namespace '{ns}' does not exist on the cluster: ask a platform administrator to create it"
                )),
                ClusterError::Rejected(message) => {
                    AppError::BadRequest(format!("The cluster refused the workspace: {message}"))
                }
                ClusterError::Unavailable(cause) => {
                    tracing::warn!(%cause, "Kubernetes API unavailable");
                    AppError::Unavailable("Kubernetes API unavailable".into())
                }
                ClusterError::CredentialsRefused(cause) => {
                    tracing::error!(%cause, "Kubernetes API refused our credentials");
                    AppError::BadGateway(
                        "Kubernetes API refused the portal's credentials: an administrator must check its access to DevWorkspaces".into(),
                    )
                }
                // RBAC: what is missing, as the API server named it (docs/CHE.md lists it all).
                ClusterError::Forbidden {
                    verb,
                    resource,
                    namespace,
                } => AppError::BadGateway(format!(
                    "Kubernetes API forbids the portal to {verb} {resource}{}: an administrator must grant it (docs/CHE.md lists the permissions the portal needs)",
                    crate::workspaces::cluster::scope(&namespace)
                )),
                ClusterError::Store(store) => store.into(),
                ClusterError::Other(cause) => AppError::Internal(cause),
                // The launcher's own failures, worded once (`WorkspaceError`).
                own @ (ClusterError::NameTaken(_)
                | ClusterError::NotFound
                | ClusterError::Terminating(_)
                | ClusterError::NamespaceTaken(_)) => WorkspaceError::from(own).into(),
            },
            WorkspaceError::NamespaceNotYours { .. }
            | WorkspaceError::NamespaceTaken(_)
            | WorkspaceError::Quota { .. } => AppError::Forbidden(err.to_string()),
            WorkspaceError::NameTaken(_) | WorkspaceError::Terminating(_) => {
                AppError::Conflict(err.to_string())
            }
            WorkspaceError::Busy(message) => AppError::Unavailable(message),
            WorkspaceError::NotFound => AppError::NotFound(err.to_string()),
            WorkspaceError::InvalidDevfileUrl(_)
            | WorkspaceError::Fetch(_)
            | WorkspaceError::Devfile(_)
            | WorkspaceError::Parent(_)
            | WorkspaceError::BadRequest(_) => AppError::BadRequest(err.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use axum::response::IntoResponse;

    use super::*;

    #[test]
    fn a_cluster_conflict_reads_as_the_launcher_words_it() {
        let direct = AppError::from(WorkspaceError::Cluster(ClusterError::NameTaken("w".into())));
        let converted = AppError::from(WorkspaceError::from(ClusterError::NameTaken("w".into())));
        assert_eq!(direct.to_string(), converted.to_string());
        assert_eq!(direct.into_response().status(), 409);
        let gone = AppError::from(WorkspaceError::Cluster(ClusterError::NotFound));
        assert_eq!(gone.into_response().status(), 404);
    }
}
