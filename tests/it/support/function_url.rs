//! Function URL (payload format 2.0) events as Lambda delivers them, and signed provider
//! requests to put in them.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Map, Value, json};

pub const HOST: &str = "abcdefghijklmnop.lambda-url.us-east-1.on.aws";
/// `requestContext.requestId` of every event built here.
pub const REQUEST_ID: &str = "11111111-2222-3333-4444-555555555555";

/// An HTTP request as a provider sends it.
#[derive(Clone, Debug)]
pub struct HttpRequest {
    pub method: String,
    pub path: String,
    pub query: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpRequest {
    pub fn post(headers: &[(&str, &str)], body: impl Into<Vec<u8>>) -> Self {
        Self {
            method: "POST".into(),
            path: "/".into(),
            query: String::new(),
            headers: headers
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            body: body.into(),
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// The event Lambda hands the function: header names lower-cased, duplicates joined with
    /// commas, JSON and text bodies as text, everything else base64.
    pub fn to_event(&self) -> Value {
        let mut headers = Map::new();
        headers.insert("host".into(), HOST.into());
        for (name, value) in &self.headers {
            let name = name.to_ascii_lowercase();
            let joined = match headers.get(&name).and_then(Value::as_str) {
                Some(existing) if name != "host" => format!("{existing},{value}"),
                _ => value.clone(),
            };
            headers.insert(name, joined.into());
        }
        let content_type = headers
            .get("content-type")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_ascii_lowercase();
        let textual =
            content_type.starts_with("application/json") || content_type.starts_with("text/");
        let (body, base64) = match std::str::from_utf8(&self.body) {
            Ok(text) if textual => (text.to_owned(), false),
            _ => (B64.encode(&self.body), true),
        };
        let mut event = json!({
            "version": "2.0",
            "routeKey": "$default",
            "rawPath": self.path,
            "rawQueryString": self.query,
            "headers": headers,
            "requestContext": {
                "accountId": "anonymous",
                "apiId": "abcdefghijklmnop",
                "domainName": HOST,
                "domainPrefix": "abcdefghijklmnop",
                "requestId": REQUEST_ID,
                "routeKey": "$default",
                "stage": "$default",
                "time": "22/Nov/2026:12:00:00 +0000",
                "timeEpoch": 1_795_000_000_000_i64,
                "http": {
                    "method": self.method,
                    "path": self.path,
                    "protocol": "HTTP/1.1",
                    "sourceIp": "192.0.2.1",
                    "userAgent": "test"
                }
            },
            "isBase64Encoded": base64
        });
        if !self.body.is_empty() {
            event["body"] = body.into();
        }
        event
    }

    /// The URL the provider requested.
    pub fn url(&self) -> String {
        let query = if self.query.is_empty() {
            String::new()
        } else {
            format!("?{}", self.query)
        };
        format!("https://{HOST}{}{query}", self.path)
    }
}

/// Status code of a function URL response.
pub fn status(response: &Value) -> u64 {
    response["statusCode"].as_u64().unwrap_or(0)
}
