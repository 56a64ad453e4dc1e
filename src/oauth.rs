//! `OAuth`: the authorization-code flow with PKCE, the code exchange and the refresh, as blocking calls.

use outlook_graph::{DEFAULT_SCOPES, OAuthClient};
use pyo3::prelude::*;

use crate::config::{PyGraphConfig, PyTokens};
use crate::errors::graph_error;
use crate::runtime;

/// The URL to send the user's browser to, and the PKCE verifier to keep (server side only) until the
/// callback comes back with the code.
#[pyclass(frozen, module = "outlook_sync._native", name = "AuthorizationRequest")]
pub struct PyAuthorizationRequest {
    #[pyo3(get)]
    url: String,
    #[pyo3(get)]
    code_verifier: String,
}

#[pymethods]
impl PyAuthorizationRequest {
    fn __repr__(&self) -> String {
        format!(
            "AuthorizationRequest(url={:?}, code_verifier='***')",
            self.url
        )
    }
}

#[pyclass(frozen, module = "outlook_sync._native", name = "OAuth")]
pub struct PyOAuth {
    config: PyGraphConfig,
}

impl PyOAuth {
    fn client(&self) -> PyResult<OAuthClient> {
        Python::attach(|py| {
            let engine = runtime::engine().map_err(|e| graph_error(py, &e))?;
            OAuthClient::new(
                engine.http.clone(),
                self.config.endpoints(),
                self.config.app(),
            )
            .map_err(|e| graph_error(py, &e))
        })
    }
}

#[pymethods]
impl PyOAuth {
    #[new]
    fn new(config: PyGraphConfig) -> Self {
        Self { config }
    }

    /// Builds the Microsoft sign-in URL for `state` (which the caller signs and binds to its user).
    #[pyo3(signature = (state, login_hint=None, scopes=None))]
    fn authorization_request(
        &self,
        state: &str,
        login_hint: Option<&str>,
        scopes: Option<Vec<String>>,
    ) -> PyResult<PyAuthorizationRequest> {
        let client = self.client()?;
        let scopes: Vec<&str> = match &scopes {
            Some(list) => list.iter().map(String::as_str).collect(),
            None => DEFAULT_SCOPES.to_vec(),
        };
        let request = client.authorization_request(state, login_hint, &scopes);
        Ok(PyAuthorizationRequest {
            url: request.url,
            code_verifier: request.pkce_verifier.expose().to_owned(),
        })
    }

    /// Redeems the authorization code from the callback. Blocks without holding the GIL.
    fn exchange_code(&self, py: Python<'_>, code: &str, code_verifier: &str) -> PyResult<PyTokens> {
        let client = self.client()?;
        let engine = runtime::engine().map_err(|e| graph_error(py, &e))?;
        let (code, verifier) = (code.to_owned(), code_verifier.to_owned());
        let result = py.detach(|| {
            engine
                .runtime
                .block_on(async move { client.exchange_code(&code, &verifier).await })
        });
        result
            .map(|inner| PyTokens { inner })
            .map_err(|e| graph_error(py, &e))
    }

    /// Exchanges a refresh token for new tokens; store the returned refresh token (Microsoft rotates it).
    fn refresh(&self, py: Python<'_>, refresh_token: &str) -> PyResult<PyTokens> {
        let client = self.client()?;
        let engine = runtime::engine().map_err(|e| graph_error(py, &e))?;
        let token = refresh_token.to_owned();
        let result = py.detach(|| {
            engine
                .runtime
                .block_on(async move { client.refresh(&token).await })
        });
        result
            .map(|inner| PyTokens { inner })
            .map_err(|e| graph_error(py, &e))
    }
}
