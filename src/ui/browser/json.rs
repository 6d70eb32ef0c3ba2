//! Reading the JSON that server functions answer with, through the browser's own
//! `JSON.parse`: the islands on the most visited pages read a handful of fields, and this
//! keeps serde_json (and its number parsing and formatting, ~30 kB of brotli wasm) out of
//! their download.

use wasm_bindgen::JsValue;
use web_sys::js_sys::{Array, Reflect, JSON};

use crate::models::{AppError, ErrorCode, FieldError};

/// A parsed JSON value; a missing field reads as `undefined`, which every accessor turns
/// into `None` (or an empty list).
pub struct Json(JsValue);

impl Json {
    /// `None` for text that is not JSON.
    pub fn parse(text: &str) -> Option<Self> {
        JSON::parse(text).ok().map(Self)
    }

    pub fn get(&self, key: &str) -> Self {
        Self(if self.0.is_object() {
            Reflect::get(&self.0, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
        } else {
            JsValue::UNDEFINED
        })
    }

    pub fn str(&self) -> Option<String> {
        self.0.as_string()
    }

    /// A whole number (ids and counts: JSON numbers the server wrote from an `i64`).
    pub fn int(&self) -> Option<i64> {
        self.0.as_f64().filter(|n| n.fract() == 0.0).map(|n| n as i64)
    }

    pub fn bool(&self) -> Option<bool> {
        self.0.as_bool()
    }

    pub fn items(&self) -> Vec<Self> {
        if Array::is_array(&self.0) {
            Array::from(&self.0).iter().map(Self).collect()
        } else {
            Vec::new()
        }
    }
}

/// The [`AppError`] a refused server-function call answered with (`None` if `text` is not one).
pub fn app_error(text: &str) -> Option<AppError> {
    let json = Json::parse(text)?;
    let code = json.get("code").str().and_then(|c| ErrorCode::from_name(&c))?;
    let mut error = AppError::new(code, json.get("message").str()?);
    error.errors = json
        .get("errors")
        .items()
        .into_iter()
        .filter_map(|e| Some(FieldError::new(e.get("field").str()?, e.get("message").str()?)))
        .collect();
    error.current_version = json.get("current_version").int();
    Some(error)
}
