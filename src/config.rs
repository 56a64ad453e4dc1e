//! `GraphConfig` and `Tokens`: the plain values a caller (the Odoo addon) stores and hands back.

use std::time::Duration;

use outlook_graph::{AppCredentials, ClientOptions, Endpoints, Secret, TokenSet};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::convert::{timestamp_from_py, timestamp_to_py};

/// Where to sign in and which app to sign in as. The defaults are Microsoft's; tests point them at the emulator.
#[pyclass(
    frozen,
    from_py_object,
    module = "outlook_sync._native",
    name = "GraphConfig"
)]
#[derive(Clone)]
pub struct PyGraphConfig {
    #[pyo3(get)]
    pub client_id: String,
    pub client_secret: Option<String>,
    #[pyo3(get)]
    pub redirect_uri: String,
    #[pyo3(get)]
    pub login_url: String,
    #[pyo3(get)]
    pub tenant: String,
    #[pyo3(get)]
    pub graph_url: String,
    #[pyo3(get)]
    pub timeout: f64,
    #[pyo3(get)]
    pub max_in_flight: usize,
    #[pyo3(get)]
    pub page_size: u32,
    #[pyo3(get)]
    pub max_total_wait: f64,
}

#[pymethods]
impl PyGraphConfig {
    #[new]
    #[pyo3(signature = (client_id, client_secret=None, redirect_uri=None, *,
        login_url=None, tenant=None, graph_url=None, timeout=60.0, max_in_flight=4, page_size=200,
        max_total_wait=300.0))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        client_id: String,
        client_secret: Option<String>,
        redirect_uri: Option<String>,
        login_url: Option<String>,
        tenant: Option<String>,
        graph_url: Option<String>,
        timeout: f64,
        max_in_flight: usize,
        page_size: u32,
        max_total_wait: f64,
    ) -> PyResult<Self> {
        let defaults = Endpoints::default();
        let config = Self {
            client_id: client_id.trim().to_owned(),
            client_secret: client_secret.filter(|s| !s.is_empty()),
            redirect_uri: redirect_uri.unwrap_or_default(),
            login_url: trim_url(login_url.unwrap_or(defaults.login_url)),
            tenant: tenant
                .map(|t| t.trim().to_owned())
                .filter(|t| !t.is_empty())
                .unwrap_or(defaults.tenant),
            graph_url: trim_url(graph_url.unwrap_or(defaults.graph_url)),
            timeout,
            max_in_flight,
            page_size,
            max_total_wait,
        };
        config.validate()?;
        Ok(config)
    }

    /// Whether a client secret is set (the secret itself is never readable back).
    #[getter]
    fn has_client_secret(&self) -> bool {
        self.client_secret.is_some()
    }

    fn __repr__(&self) -> String {
        format!(
            "GraphConfig(client_id={:?}, client_secret={}, redirect_uri={:?}, login_url={:?}, tenant={:?}, graph_url={:?})",
            self.client_id,
            if self.client_secret.is_some() {
                "'***'"
            } else {
                "None"
            },
            self.redirect_uri,
            self.login_url,
            self.tenant,
            self.graph_url
        )
    }
}

fn trim_url(url: String) -> String {
    url.trim().trim_end_matches('/').to_owned()
}

impl PyGraphConfig {
    fn validate(&self) -> PyResult<()> {
        if self.client_id.is_empty() {
            return Err(PyValueError::new_err(
                "the Outlook Client ID is empty: copy the Application (client) ID of the Azure app registration into the settings",
            ));
        }
        for (name, url) in [
            ("login_url", &self.login_url),
            ("graph_url", &self.graph_url),
        ] {
            let parsed = url::Url::parse(url).map_err(|e| {
                PyValueError::new_err(format!("{name} {url:?} is not a valid URL: {e}"))
            })?;
            if !matches!(parsed.scheme(), "https" | "http") {
                return Err(PyValueError::new_err(format!(
                    "{name} {url:?} must be an http(s) URL"
                )));
            }
        }
        if self.tenant.contains('/') || self.tenant.contains('?') {
            return Err(PyValueError::new_err(format!(
                "tenant {:?} must be 'common', 'organizations', 'consumers', a tenant id or a domain",
                self.tenant
            )));
        }
        if !(self.timeout.is_finite() && self.timeout > 0.0) {
            return Err(PyValueError::new_err(
                "timeout must be a positive number of seconds",
            ));
        }
        if !(self.max_total_wait.is_finite() && self.max_total_wait >= 0.0) {
            return Err(PyValueError::new_err(
                "max_total_wait must be a number of seconds >= 0",
            ));
        }
        if !(1..=4).contains(&self.max_in_flight) {
            return Err(PyValueError::new_err(
                "max_in_flight must be between 1 and 4 (Outlook allows 4 concurrent requests per mailbox)",
            ));
        }
        if !(1..=1000).contains(&self.page_size) {
            return Err(PyValueError::new_err(
                "page_size must be between 1 and 1000",
            ));
        }
        Ok(())
    }

    pub fn endpoints(&self) -> Endpoints {
        Endpoints {
            login_url: self.login_url.clone(),
            tenant: self.tenant.clone(),
            graph_url: self.graph_url.clone(),
        }
    }

    pub fn app(&self) -> AppCredentials {
        AppCredentials {
            client_id: self.client_id.clone(),
            client_secret: self.client_secret.clone().map(Secret::from),
            redirect_uri: self.redirect_uri.clone(),
        }
    }

    pub fn options(&self) -> ClientOptions {
        ClientOptions {
            max_in_flight: self.max_in_flight,
            request_timeout: Duration::from_secs_f64(self.timeout),
            max_total_wait: Duration::from_secs_f64(self.max_total_wait),
            page_size: self.page_size,
            ..ClientOptions::default()
        }
    }
}

/// An access token, the refresh token that comes with it, and when the access token expires.
///
/// The repr never shows the tokens. Store `refresh_token` after every call that may have refreshed: Microsoft
/// rotates it.
#[pyclass(
    frozen,
    from_py_object,
    module = "outlook_sync._native",
    name = "Tokens"
)]
#[derive(Clone)]
pub struct PyTokens {
    pub inner: TokenSet,
}

#[pymethods]
impl PyTokens {
    #[new]
    #[pyo3(signature = (access_token, refresh_token, expires_at, scope=None))]
    fn new(
        access_token: String,
        refresh_token: Option<String>,
        expires_at: &Bound<'_, PyAny>,
        scope: Option<String>,
    ) -> PyResult<Self> {
        Ok(Self {
            inner: TokenSet {
                access_token: Secret::from(access_token),
                refresh_token: refresh_token.filter(|t| !t.is_empty()).map(Secret::from),
                expires_at: timestamp_from_py(expires_at, "expires_at")?,
                scope,
            },
        })
    }

    #[getter]
    fn access_token(&self) -> &str {
        self.inner.access_token.expose()
    }

    #[getter]
    fn refresh_token(&self) -> Option<&str> {
        self.inner.refresh_token.as_ref().map(Secret::expose)
    }

    /// When the access token expires, as a timezone-aware UTC datetime.
    #[getter]
    fn expires_at<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        timestamp_to_py(py, self.inner.expires_at)
    }

    #[getter]
    fn scope(&self) -> Option<&str> {
        self.inner.scope.as_deref()
    }

    fn __repr__(&self) -> String {
        format!(
            "Tokens(access_token='***', refresh_token={}, expires_at='{}')",
            if self.inner.refresh_token.is_some() {
                "'***'"
            } else {
                "None"
            },
            self.inner.expires_at
        )
    }
}
