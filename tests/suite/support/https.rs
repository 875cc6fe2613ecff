//! An HTTPS server on 127.0.0.1 with its own CA, to serve catalog files and devfiles to the guarded
//! fetcher over real TLS. Its certificate names `localhost`, `127.0.0.1` and `evil.example`.

use std::io::Write;
use std::sync::Arc;

use axum::Router;
use fawkes_portal::config::Settings;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::service::TowerToHyperService;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use tokio_rustls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

pub struct HttpsServer {
    pub port: u16,
    ca_file: tempfile::NamedTempFile,
    task: tokio::task::JoinHandle<()>,
}

impl HttpsServer {
    pub async fn start(router: Router) -> HttpsServer {
        Self::start_with(router, false).await
    }

    /// A server presenting a self-signed CA certificate as its own (a common do-it-yourself setup,
    /// which rustls refuses even when that certificate is trusted).
    pub async fn start_with_ca_as_server_certificate(router: Router) -> HttpsServer {
        Self::start_with(router, true).await
    }

    async fn start_with(router: Router, ca_as_leaf: bool) -> HttpsServer {
        fawkes_portal::fetch::install_crypto_provider();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "Fawkes Portal test CA");
        if ca_as_leaf {
            ca_params.subject_alt_names =
                vec![rcgen::SanType::DnsName("localhost".try_into().unwrap())];
        }
        let ca_key = KeyPair::generate().unwrap();
        let ca_cert = ca_params.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(ca_params, ca_key);
        let leaf_key = KeyPair::generate().unwrap();
        let leaf_params = CertificateParams::new(vec![
            "localhost".to_owned(),
            "127.0.0.1".to_owned(),
            "evil.example".to_owned(),
        ])
        .unwrap();
        let leaf = leaf_params.signed_by(&leaf_key, &issuer).unwrap();

        let mut ca_file = tempfile::Builder::new().suffix(".pem").tempfile().unwrap();
        ca_file.write_all(ca_cert.pem().as_bytes()).unwrap();

        let (served, served_key) = if ca_as_leaf {
            (ca_cert.der().clone(), issuer.key().serialize_der())
        } else {
            (leaf.der().clone(), leaf_key.serialize_der())
        };
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(served_key));
        let tls = tokio_rustls::rustls::ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(vec![served], key)
            .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let task = tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    continue;
                };
                let (acceptor, router) = (acceptor.clone(), router.clone());
                tokio::spawn(async move {
                    let Ok(stream) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let service = TowerToHyperService::new(router);
                    let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        HttpsServer {
            port,
            ca_file,
            task,
        }
    }

    /// `https://localhost:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("https://localhost:{}{path}", self.port)
    }

    /// Lets the fetcher reach this server: allow-lists `localhost:<port>` and trusts its CA.
    pub fn allow(&self, settings: &mut Settings) {
        settings.fetch.allow_hosts = vec![format!("localhost:{}", self.port)];
        settings.fetch.extra_ca_file = self.ca_path();
    }

    pub fn ca_path(&self) -> String {
        self.ca_file.path().display().to_string()
    }
}

impl Drop for HttpsServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}
