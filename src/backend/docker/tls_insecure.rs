//! HTTPS to an engine whose docker context sets `SkipTLSVerify: true`.
//!
//! bollard's own TLS client always verifies the server certificate, so a context the docker CLI
//! accepts would fail here. This builds the same rustls + hyper stack bollard uses, with a
//! verifier that accepts any server certificate (still checking handshake signatures) and the
//! context's client certificate when it has one; `super::capped` sends bollard's requests
//! through it.

use std::path::Path;
use std::sync::Arc;

use rustls::DigitallySignedStruct;
use rustls::SignatureScheme;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};

use super::connect::TlsFiles;

/// Accepts any certificate: exactly what `SkipTLSVerify` asks for, and nothing more.
#[derive(Debug)]
struct AcceptAnyServerCert(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyServerCert {
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
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

fn tls_error(msg: String) -> bollard::errors::Error {
    bollard::errors::Error::IOError {
        err: std::io::Error::other(msg),
    }
}

/// Load the client certificate when the context has one; the engine may not require it.
fn client_identity(
    files: &TlsFiles,
) -> Result<Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>, bollard::errors::Error>
{
    if !Path::new(&files.cert).exists() || !Path::new(&files.key).exists() {
        return Ok(None);
    }
    let certs = CertificateDer::pem_file_iter(&files.cert)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| {
            tls_error(format!(
                "cannot read client certificate {}: {e}",
                files.cert.display()
            ))
        })?;
    let key = PrivateKeyDer::from_pem_file(&files.key).map_err(|e| {
        tls_error(format!(
            "cannot read client key {}: {e}",
            files.key.display()
        ))
    })?;
    Ok(Some((certs, key)))
}

/// The client config for a `SkipTLSVerify` context: any server certificate (handshake
/// signatures still checked), the context's client certificate when it has one. Sent through
/// the capped transport (`super::capped`).
pub fn config(files: &TlsFiles) -> Result<rustls::ClientConfig, bollard::errors::Error> {
    // ring explicitly: the crate graph is ring-only and must not depend on a process default.
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| tls_error(format!("TLS setup failed: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AcceptAnyServerCert(provider)));
    match client_identity(files)? {
        Some((certs, key)) => builder
            .with_client_auth_cert(certs, key)
            .map_err(|e| tls_error(format!("client certificate rejected: {e}"))),
        None => Ok(builder.with_no_client_auth()),
    }
}
