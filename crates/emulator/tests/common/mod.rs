//! Shared helpers for the emulator's HTTP tests.
#![allow(clippy::unwrap_used, dead_code)]

use outlook_emulator::EmulatorHandle;
use reqwest::{Client, Method, RequestBuilder, Response};
use serde_json::{Value, json};

pub struct Env {
    pub emulator: EmulatorHandle,
    pub http: Client,
}

impl Env {
    pub fn new() -> Env {
        let emulator = outlook_emulator::start("127.0.0.1:0".parse().unwrap()).unwrap();
        let http = Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Env { emulator, http }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.emulator.base_url())
    }

    /// Creates the mailbox and returns an access token for it.
    pub async fn token(&self, address: &str) -> String {
        let body = self
            .post_json(&format!("/_emulator/mailboxes/{address}/token"), json!({}))
            .await;
        body["access_token"].as_str().unwrap().to_owned()
    }

    pub fn graph(&self, method: Method, token: &str, path: &str) -> RequestBuilder {
        self.http
            .request(method, self.url(&format!("/v1.0{path}")))
            .bearer_auth(token)
    }

    pub async fn post_json(&self, path: &str, body: Value) -> Value {
        let resp = self
            .http
            .post(self.url(path))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(resp.status().is_success(), "{path}: {}", resp.status());
        resp.json().await.unwrap()
    }

    pub async fn put_json(&self, path: &str, body: Value) -> Value {
        let resp = self
            .http
            .put(self.url(path))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(resp.status().is_success(), "{path}: {}", resp.status());
        resp.json().await.unwrap()
    }

    pub async fn get_json(&self, path: &str) -> Value {
        self.http
            .get(self.url(path))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Creates an event through Graph and returns the response body.
    pub async fn create(&self, token: &str, event: Value) -> Value {
        let resp = self
            .graph(Method::POST, token, "/me/events")
            .json(&event)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 201);
        resp.json().await.unwrap()
    }

    /// Empties the outbox, so that a test sees only the mails of what follows.
    pub async fn clear_outbox(&self) {
        self.http
            .delete(self.url("/_emulator/outbox"))
            .send()
            .await
            .unwrap();
    }

    pub async fn outbox(&self) -> Vec<Value> {
        self.get_json("/_emulator/outbox").await["mails"]
            .as_array()
            .unwrap()
            .clone()
    }
}

pub async fn json_of(resp: Response) -> (u16, Value) {
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    let value = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap()
    };
    (status, value)
}

pub fn meeting(subject: &str, attendees: &[&str]) -> Value {
    let attendees: Vec<Value> = attendees
        .iter()
        .map(|a| json!({"emailAddress": {"address": a, "name": a}, "type": "required"}))
        .collect();
    json!({
        "subject": subject,
        "body": {"contentType": "HTML", "content": "Agenda"},
        "start": {"dateTime": "2030-03-04T10:00:00", "timeZone": "W. Europe Standard Time"},
        "end": {"dateTime": "2030-03-04T11:00:00", "timeZone": "W. Europe Standard Time"},
        "location": {"displayName": "Room 1"},
        "attendees": attendees,
    })
}
