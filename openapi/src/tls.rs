//! TLS, chosen here and nowhere else: rustls with the `ring` provider, configured by this
//! package whatever else the workspace switches on, so every tool (the checker, the mock
//! fetching a document, the load generator) speaks HTTPS the same, built alone or together.
//! `ring` builds in seconds; aws-lc-rs needs cmake and a long C build. The system's roots
//! are trusted unless `--cacert` names a private CA (as curl's does); `--insecure` trusts
//! anything; `--cert`/`--key` present a client certificate.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use rustls_platform_verifier::BuilderVerifierExt;

/// How a client trusts servers and presents itself (the default: the system's roots, no
/// client certificate).
#[derive(Debug, Clone, Default)]
pub struct TlsOptions {
    /// PEM certificates of the CAs to trust instead of the system's.
    pub ca_file: Option<PathBuf>,
    /// Skip verification of the server's certificate.
    pub insecure: bool,
    /// A client certificate chain and its key, both PEM.
    pub client_cert: Option<(PathBuf, PathBuf)>,
}

/// Why TLS could not be set up: the user's files or options, said before any request.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("{0}: {1}")]
    File(String, String),
    #[error("{0}: no certificate in it")]
    NoCertificate(String),
    #[error("TLS setup: {0}")]
    Setup(String),
}

/// The provider every TLS connection uses.
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The rustls client configuration for these options.
pub fn client_config(options: &TlsOptions) -> Result<ClientConfig, TlsError> {
    let provider = provider();
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Setup(e.to_string()))?;
    let builder = match (&options.ca_file, options.insecure) {
        (_, true) => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnything(
                provider.signature_verification_algorithms,
            ))),
        (Some(path), false) => {
            let mut roots = RootCertStore::empty();
            for cert in certificates(path)? {
                roots
                    .add(cert)
                    .map_err(|e| TlsError::File(display(path), e.to_string()))?;
            }
            builder.with_root_certificates(roots)
        }
        (None, false) => builder
            .with_platform_verifier()
            .map_err(|e| TlsError::Setup(e.to_string()))?,
    };
    let mut config = match &options.client_cert {
        Some((cert, key)) => {
            let key_der = PrivateKeyDer::from_pem_file(key)
                .map_err(|e| TlsError::File(display(key), e.to_string()))?;
            builder
                .with_client_auth_cert(certificates(cert)?, key_der)
                .map_err(|e| TlsError::File(display(cert), e.to_string()))?
        }
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// A reqwest client builder that speaks HTTPS this way.
pub fn client_builder(options: &TlsOptions) -> Result<reqwest::ClientBuilder, TlsError> {
    Ok(reqwest::Client::builder().tls_backend_preconfigured(client_config(options)?))
}

fn display(path: &Path) -> String {
    path.display().to_string()
}

fn certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| TlsError::File(display(path), e.to_string()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::File(display(path), e.to_string()))?;
    match certs.is_empty() {
        true => Err(TlsError::NoCertificate(display(path))),
        false => Ok(certs),
    }
}

/// `--insecure`: any certificate is accepted; signatures are still checked, so the
/// handshake itself stays sound.
#[derive(Debug)]
struct AcceptAnything(WebPkiSupportedAlgorithms);

impl ServerCertVerifier for AcceptAnything {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_schemes()
    }
}
