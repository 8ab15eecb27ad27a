//! TLS for clients that insist on it (`serve --tls`): the certificate the server presents and the listener
//! that serves it.
//!
//! Two sources of a certificate ([`TlsSource`]): one made at start ([`Identity::generate`]: a fresh CA,
//! self-signed, and a server certificate signed by it for [`HOSTS`] and the bound IP; the CA's PEM is what a
//! client is told to trust), or one's own chain and key read from PEM files ([`Identity::from_files`]).
//! [`handshake`] runs an accepted connection's TLS handshake (ALPN offering `h2` and `http/1.1`) in that
//! connection's task, with a time limit, so everything above the socket (HTTP/1.1 and HTTP/2, the router,
//! the timeouts and graceful shutdown of `conn.rs`) is the same over TLS and plain TCP.
//!
//! Crypto is rustls with its `ring` provider, the same one reqwest's `rustls-tls` already builds.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

/// The names and addresses a generated server certificate is valid for: the hosts the mock answers as, and
/// the loopback names. The bound IP is added when it is a specific address.
pub const HOSTS: &[&str] = &[
    "api.amazon.com",
    "www.amazon.com",
    "amazon.com",
    "music-api.amazon.com",
    "api.music.amazon.dev",
    "api.music.amazon.com",
    "localhost",
    "127.0.0.1",
    "::1",
];

/// The common name of a generated CA (what a trust store lists).
pub const CA_NAME: &str = "amazon-music-mock CA";

/// Longest time a TLS handshake may take before the connection is dropped.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Where the server's certificate comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsSource {
    /// A CA made at start and a server certificate signed by it for [`HOSTS`] and the bound IP.
    Generate,
    /// One's own certificate chain and key ([`TlsSource::files`]). Boxed: `ServerConfig` is carried by value
    /// and this keeps it small.
    Files(Box<TlsFiles>),
}

/// One's own certificate chain (PEM, the server's certificate first) and private key (PEM: PKCS#8, PKCS#1 or
/// SEC1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// The certificate chain (`--tls-cert`).
    pub cert: PathBuf,
    /// The private key (`--tls-key`).
    pub key: PathBuf,
}

impl TlsSource {
    /// [`TlsSource::Files`] with these paths.
    pub fn files(cert: impl Into<PathBuf>, key: impl Into<PathBuf>) -> Self {
        TlsSource::Files(Box::new(TlsFiles { cert: cert.into(), key: key.into() }))
    }
}

/// Why TLS cannot be set up. Each is one line that names the flag and the problem.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file given on the command line is unreadable, malformed, or does not fit the other.
    #[error("{flag} {}: {problem}", path.display())]
    File {
        /// The flag that named the file (`--tls-cert`, `--tls-key`, `--tls-ca-out`).
        flag: &'static str,
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        problem: String,
    },
    /// Making the certificates failed (not expected to happen).
    #[error("cannot make the TLS certificates: {0}")]
    Generate(String),
}

/// What the server presents: a rustls configuration, and the CA's certificate when the mock made it.
#[derive(Clone)]
pub struct Identity {
    config: Arc<rustls::ServerConfig>,
    ca_pem: Option<String>,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identity").field("alpn", &self.config.alpn_protocols).finish_non_exhaustive()
    }
}

impl Identity {
    /// Resolves a [`TlsSource`] for a server bound to `bind_ip`.
    ///
    /// # Errors
    /// [`TlsError`].
    pub fn resolve(source: &TlsSource, bind_ip: IpAddr) -> Result<Self, TlsError> {
        match source {
            TlsSource::Generate => Self::generate(bind_ip),
            TlsSource::Files(f) => Self::from_files(&f.cert, &f.key),
        }
    }

    /// A fresh CA (ECDSA P-256, valid from a day ago for ten years) and a server certificate signed by it
    /// for [`HOSTS`] and `bind_ip` (when it is a specific address), valid from a day ago for 397 days: within
    /// the 398 days some platforms (Apple's) allow a server certificate, with `serverAuth` and the names in
    /// the subject alternative name.
    ///
    /// # Errors
    /// [`TlsError::Generate`].
    pub fn generate(bind_ip: IpAddr) -> Result<Self, TlsError> {
        use rcgen::{
            BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
            KeyUsagePurpose,
        };
        let generr = |e: rcgen::Error| TlsError::Generate(e.to_string());
        let now = time::OffsetDateTime::now_utc();

        let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(generr)?;
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name.push(DnType::CommonName, CA_NAME);
        ca.distinguished_name.push(DnType::OrganizationName, "amazon-music-mock");
        ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
        ca.not_before = now - time::Duration::days(1);
        ca.not_after = now + time::Duration::days(3650);
        let ca_key = KeyPair::generate().map_err(generr)?;
        let ca_cert = ca.self_signed(&ca_key).map_err(generr)?;
        let issuer = Issuer::new(ca, ca_key);

        let mut names: Vec<String> = HOSTS.iter().map(|h| (*h).to_owned()).collect();
        let listed = HOSTS.iter().filter_map(|h| h.parse::<IpAddr>().ok()).any(|ip| ip == bind_ip);
        if !bind_ip.is_unspecified() && !listed {
            names.push(bind_ip.to_string());
        }
        let mut leaf = CertificateParams::new(names).map_err(generr)?;
        leaf.distinguished_name.push(DnType::CommonName, "amazon-music-mock");
        leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        leaf.use_authority_key_identifier_extension = true;
        leaf.not_before = now - time::Duration::days(1);
        leaf.not_after = now + time::Duration::days(397);
        let leaf_key = KeyPair::generate().map_err(generr)?;
        let leaf_cert = leaf.signed_by(&leaf_key, &issuer).map_err(generr)?;

        let chain = vec![leaf_cert.der().clone()];
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
        let config = server_config(chain, key).map_err(|e| TlsError::Generate(e.to_string()))?;
        Ok(Identity { config, ca_pem: Some(ca_cert.pem()) })
    }

    /// One's own certificate chain and key, from PEM files.
    ///
    /// # Errors
    /// [`TlsError::File`] naming `--tls-cert` or `--tls-key`: unreadable, no certificate or key in it, a
    /// malformed one, or a key that is not the certificate's.
    pub fn from_files(cert: &Path, key: &Path) -> Result<Self, TlsError> {
        let cert_err = |problem: String| TlsError::File { flag: "--tls-cert", path: cert.to_owned(), problem };
        let key_err = |problem: String| TlsError::File { flag: "--tls-key", path: key.to_owned(), problem };
        let cert_pem = std::fs::read(cert).map_err(|e| cert_err(format!("cannot read: {e}")))?;
        let chain = CertificateDer::pem_slice_iter(&cert_pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| cert_err(format!("not a PEM certificate chain: {e}")))?;
        if chain.is_empty() {
            return Err(cert_err("no PEM certificate (-----BEGIN CERTIFICATE-----) in the file".into()));
        }
        let key_pem = std::fs::read(key).map_err(|e| key_err(format!("cannot read: {e}")))?;
        let key_der = match PrivateKeyDer::from_pem_slice(&key_pem) {
            Ok(k) => k,
            Err(rustls::pki_types::pem::Error::NoItemsFound) => {
                return Err(key_err("no PEM private key (-----BEGIN PRIVATE KEY-----) in the file".into()));
            }
            Err(e) => return Err(key_err(format!("not a PEM private key: {e}"))),
        };
        let config = server_config(chain, key_der).map_err(|e| match e {
            rustls::Error::InconsistentKeys(_) => {
                key_err(format!("is not the key of the certificate in --tls-cert {}", cert.display()))
            }
            rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented => {
                cert_err(format!("not a usable certificate: {e}"))
            }
            e => key_err(format!("not a usable private key: {e}")),
        })?;
        Ok(Identity { config, ca_pem: None })
    }

    /// The generated CA's certificate (PEM), for clients to trust; `None` for one's own certificate.
    pub fn ca_pem(&self) -> Option<&str> {
        self.ca_pem.as_deref()
    }

    /// The rustls configuration (ALPN `h2`, `http/1.1`).
    pub fn config(&self) -> Arc<rustls::ServerConfig> {
        self.config.clone()
    }

    /// What accepts TLS connections with this identity ([`handshake`]).
    pub fn acceptor(&self) -> TlsAcceptor {
        TlsAcceptor::from(self.config())
    }
}

/// A server configuration over the `ring` provider (named, not taken from the process default, so another
/// crate enabling a second provider cannot make it ambiguous), with TLS 1.2 and 1.3 and ALPN `h2`, `http/1.1`.
fn server_config(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<Arc<rustls::ServerConfig>, rustls::Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Where `serve --tls` writes the CA's certificate without `--tls-ca-out`: `amazon-music-mock-ca-PORT.pem` in
/// the system's temporary directory (one per port, so servers side by side do not overwrite each other's).
pub fn default_ca_path(port: u16) -> PathBuf {
    std::env::temp_dir().join(format!("amazon-music-mock-ca-{port}.pem"))
}

/// Writes the CA's certificate to `path` (`flag` names it in the error).
///
/// # Errors
/// [`TlsError::File`].
pub fn write_ca(path: &Path, pem: &str, flag: &'static str) -> Result<(), TlsError> {
    std::fs::write(path, pem).map_err(|e| TlsError::File {
        flag,
        path: path.to_owned(),
        problem: format!("cannot write the CA certificate: {e}"),
    })
}

/// The TLS handshake of an accepted connection, within [`HANDSHAKE_TIMEOUT`]; `None` when it fails or takes
/// too long (logged at debug level: a client that does not trust the CA fails here, which costs the server
/// nothing). It runs in the connection's own task (`conn.rs`), so a slow or silent client delays nobody.
pub async fn handshake(acceptor: &TlsAcceptor, tcp: TcpStream, peer: SocketAddr) -> Option<TlsStream<TcpStream>> {
    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
        Ok(Ok(tls)) => Some(tls),
        Ok(Err(e)) => {
            tracing::debug!(peer = %peer, error = %e, "TLS handshake failed");
            None
        }
        Err(_) => {
            tracing::debug!(peer = %peer, "TLS handshake timed out");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_identity_has_a_ca_and_offers_h2_then_http11() {
        let id = Identity::generate(IpAddr::from([127, 0, 0, 1])).expect("generates");
        let ca = id.ca_pem().expect("a CA");
        assert!(ca.starts_with("-----BEGIN CERTIFICATE-----"), "{ca}");
        assert_eq!(id.config().alpn_protocols, [b"h2".to_vec(), b"http/1.1".to_vec()]);
    }

    #[test]
    fn missing_files_name_their_flag() {
        let dir = std::env::temp_dir().join(format!("amm-tls-unit-{}", std::process::id()));
        let e = Identity::from_files(&dir.join("nope.pem"), &dir.join("key.pem")).unwrap_err().to_string();
        assert!(e.starts_with("--tls-cert ") && e.contains("nope.pem: cannot read: "), "{e}");
    }

    #[test]
    fn default_ca_path_is_per_port_in_the_temp_dir() {
        assert_eq!(default_ca_path(8443), std::env::temp_dir().join("amazon-music-mock-ca-8443.pem"));
    }
}
