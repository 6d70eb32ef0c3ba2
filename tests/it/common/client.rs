//! A tiny HTTP client over the in-process router: keeps the session cookie like a browser,
//! calls server functions and the API, and reads answers.

use axum::{
    body::Body,
    http::{header, HeaderMap, HeaderValue, Method, Request, StatusCode},
};
use serde_json::Value;

use super::TestApp;

/// A browser-like client: keeps the session cookie between requests.
pub struct Client<'a> {
    pub(super) app: &'a TestApp,
    pub cookie: Option<String>,
}

pub struct RequestSpec {
    pub method: Method,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Body,
}

impl<'a> Client<'a> {
    pub async fn request(&mut self, spec: RequestSpec) -> TestResponse {
        let mut builder = Request::builder().method(spec.method).uri(&spec.path).header(header::HOST, "quire.test");
        for (k, v) in &spec.headers {
            builder = builder.header(k.as_str(), v.as_str());
        }
        if let Some(c) = &self.cookie {
            builder = builder.header(header::COOKIE, c.as_str());
        }
        let res = self.app.send(builder.body(spec.body).expect("request")).await;
        if let Some(set) = res.headers.get(header::SET_COOKIE).and_then(|v| v.to_str().ok()) {
            let pair = set.split(';').next().unwrap_or("").to_string();
            // An expired cookie (Max-Age=0) is the server clearing it.
            if set.contains("Max-Age=0") {
                self.cookie = None;
            } else {
                self.cookie = Some(pair);
            }
        }
        res
    }

    pub async fn get(&mut self, path: &str) -> TestResponse {
        self.request(RequestSpec { method: Method::GET, path: path.into(), headers: vec![], body: Body::empty() }).await
    }

    /// A page load as a browser does it.
    pub async fn get_page(&mut self, path: &str) -> TestResponse {
        self.request(RequestSpec {
            method: Method::GET,
            path: path.into(),
            headers: vec![("accept".into(), "text/html".into())],
            body: Body::empty(),
        })
        .await
    }

    pub async fn post_json(&mut self, path: &str, body: Value) -> TestResponse {
        self.request(RequestSpec {
            method: Method::POST,
            path: path.into(),
            headers: vec![("content-type".into(), "application/json".into())],
            body: Body::from(body.to_string()),
        })
        .await
    }

    /// A server function called as the hydrated app calls it (fetch, form-encoded).
    pub async fn call_fn(&mut self, path: &str, form: &[(&str, &str)]) -> TestResponse {
        self.request(RequestSpec {
            method: Method::POST,
            path: path.into(),
            headers: vec![
                ("content-type".into(), "application/x-www-form-urlencoded".into()),
                ("accept".into(), "application/json".into()),
                ("origin".into(), "http://quire.test".into()),
            ],
            body: Body::from(encode_form(form)),
        })
        .await
    }

    /// A plain HTML form post (no JavaScript): the browser sends Accept: text/html and a Referer.
    pub async fn submit_form(&mut self, path: &str, referer: &str, form: &[(&str, &str)]) -> TestResponse {
        self.request(RequestSpec {
            method: Method::POST,
            path: path.into(),
            headers: vec![
                ("content-type".into(), "application/x-www-form-urlencoded".into()),
                ("accept".into(), "text/html,application/xhtml+xml".into()),
                ("origin".into(), "http://quire.test".into()),
                ("referer".into(), format!("http://quire.test{referer}")),
            ],
            body: Body::from(encode_form(form)),
        })
        .await
    }
}

pub fn encode_form(pairs: &[(&str, &str)]) -> String {
    pairs.iter().map(|(k, v)| format!("{}={}", urlencode(k), urlencode(v))).collect::<Vec<_>>().join("&")
}

fn urlencode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap<HeaderValue>,
    pub body: Vec<u8>,
}

impl TestResponse {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", self.text()))
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    /// Asserts the body is a problem document with `status` and `code`, and returns it.
    pub fn problem(&self, status: u16, code: &str) -> Value {
        assert_eq!(self.status.as_u16(), status, "status; body: {}", self.text());
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "content type; body: {}",
            self.text()
        );
        let body = self.json();
        assert_eq!(body["status"], status);
        assert_eq!(body["code"], code, "code; body: {body}");
        for member in ["type", "title", "detail", "request_id"] {
            assert!(body[member].is_string(), "problem member `{member}` missing: {body}");
        }
        assert_eq!(Some(body["request_id"].as_str().unwrap()), self.header("x-request-id"));
        body
    }
}

impl<'a> Client<'a> {
    /// An API call: optional bearer token, optional JSON body, extra headers.
    pub async fn api(
        &mut self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> TestResponse {
        let mut h: Vec<(String, String)> = headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        if let Some(t) = token {
            h.push(("authorization".into(), format!("Bearer {t}")));
        }
        let body = match body {
            Some(b) => {
                h.push(("content-type".into(), "application/json".into()));
                Body::from(b.to_string())
            }
            None => Body::empty(),
        };
        self.request(RequestSpec { method, path: path.into(), headers: h, body }).await
    }
}
