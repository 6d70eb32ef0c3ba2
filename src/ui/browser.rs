//! The few things the islands do with browser objects directly: an `EventSource`
//! for live updates, and `XMLHttpRequest` where progress matters (an upload's bytes sent,
//! a report's streamed progress). On the server every function here does nothing: the
//! page renders without them and they start once it hydrates.

#[cfg(feature = "hydrate")]
use leptos::prelude::*;

#[cfg(feature = "hydrate")]
pub mod json;

/// An open `EventSource` and its listeners (closing it releases both).
#[cfg(feature = "hydrate")]
pub struct StreamHandle(
    send_wrapper::SendWrapper<(
        web_sys::EventSource,
        Vec<wasm_bindgen::closure::Closure<dyn FnMut(web_sys::MessageEvent)>>,
    )>,
);

#[cfg(feature = "hydrate")]
impl StreamHandle {
    pub fn close(self) {
        let (source, _listeners) = self.0.take();
        source.close();
    }
}

/// Opens an event stream, calling `on_event(kind, data)` for each event named in `kinds`.
/// The browser reconnects by itself (after a server restart too) and sends `Last-Event-ID`.
#[cfg(feature = "hydrate")]
fn open_stream(
    url: &str,
    kinds: &'static [&'static str],
    on_event: impl Fn(&str, String) + Clone + 'static,
) -> Option<StreamHandle> {
    use wasm_bindgen::{closure::Closure, JsCast};
    let source = web_sys::EventSource::new(url).ok()?;
    let mut listeners = Vec::new();
    for kind in kinds {
        let on_event = on_event.clone();
        let cb = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |ev: web_sys::MessageEvent| {
            on_event(kind, ev.data().as_string().unwrap_or_default());
        });
        let _ = source.add_event_listener_with_callback(kind, cb.as_ref().unchecked_ref());
        listeners.push(cb);
    }
    Some(StreamHandle(send_wrapper::SendWrapper::new((source, listeners))))
}

/// Listens to the event stream at `url` while the calling component lives.
pub fn use_event_stream(
    url: String,
    kinds: &'static [&'static str],
    on_event: impl Fn(&str, String) + Clone + 'static,
) {
    #[cfg(feature = "hydrate")]
    if let Some(handle) = open_stream(&url, kinds, on_event) {
        on_cleanup(move || handle.close());
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = (url, kinds, on_event);
    }
}

/// POSTs `body` (JSON) to `url` and calls `on_event(name, data)` for each server-sent event
/// of the streamed answer as it arrives, then `on_end(status)` with the HTTP status.
pub fn post_event_stream(
    url: &str,
    body: String,
    on_event: impl Fn(String, String) + 'static,
    on_end: impl Fn(u16, String) + 'static,
) {
    #[cfg(feature = "hydrate")]
    {
        use std::{cell::Cell, rc::Rc};
        use wasm_bindgen::{closure::Closure, JsCast};
        let Ok(xhr) = web_sys::XmlHttpRequest::new() else { return on_end(0, String::new()) };
        if xhr.open("POST", url).is_err() {
            return on_end(0, String::new());
        }
        let _ = xhr.set_request_header("content-type", "application/json");
        let _ = xhr.set_request_header("accept", "text/event-stream");
        let seen = Rc::new(Cell::new(0usize));
        let parse = {
            let xhr = xhr.clone();
            let seen = seen.clone();
            let on_event = Rc::new(on_event);
            move || {
                let text = xhr.response_text().ok().flatten().unwrap_or_default();
                // Complete events end with a blank line; parse each once.
                while let Some(end) = text[seen.get()..].find("\n\n") {
                    let block = &text[seen.get()..seen.get() + end];
                    seen.set(seen.get() + end + 2);
                    let (mut name, mut data) = ("message".to_string(), String::new());
                    for line in block.lines() {
                        if let Some(v) = line.strip_prefix("event:") {
                            name = v.trim().to_string();
                        } else if let Some(v) = line.strip_prefix("data:") {
                            data.push_str(v.strip_prefix(' ').unwrap_or(v));
                        }
                    }
                    if !data.is_empty() {
                        on_event(name, data);
                    }
                }
            }
        };
        let progress = {
            let parse = parse.clone();
            Closure::<dyn FnMut()>::new(move || parse())
        };
        let done = {
            let xhr = xhr.clone();
            Closure::<dyn FnMut()>::new(move || {
                parse();
                let status = xhr.status().unwrap_or(0);
                on_end(status, xhr.response_text().ok().flatten().unwrap_or_default());
            })
        };
        xhr.set_onprogress(Some(progress.as_ref().unchecked_ref()));
        xhr.set_onloadend(Some(done.as_ref().unchecked_ref()));
        // The request lives until it ends; its handlers with it.
        progress.forget();
        done.forget();
        let _ = xhr.send_with_opt_str(Some(&body));
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = (url, body, on_event, on_end);
    }
}

/// Uploads the file chosen in the `<input type=file>` with id `input_id` to `url` as
/// multipart field `file`, calling `on_progress(percent)` as bytes go out and then
/// `on_end(status, response text)`.
pub fn upload_file(
    input_id: &str,
    url: &str,
    on_progress: impl Fn(u8) + 'static,
    on_end: impl Fn(u16, String) + 'static,
) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::{closure::Closure, JsCast};
        let file = document()
            .get_element_by_id(input_id)
            .and_then(|e| e.dyn_into::<web_sys::HtmlInputElement>().ok())
            .and_then(|i| i.files())
            .and_then(|f| f.get(0));
        let Some(file) = file else { return on_end(0, "Choose a file first.".into()) };
        let (Ok(xhr), Ok(form)) = (web_sys::XmlHttpRequest::new(), web_sys::FormData::new()) else {
            return on_end(0, String::new());
        };
        let _ = form.append_with_blob_and_filename("file", &file, &file.name());
        if xhr.open("POST", url).is_err() {
            return on_end(0, String::new());
        }
        let _ = xhr.set_request_header("accept", "application/json");
        let progress = Closure::<dyn FnMut(web_sys::ProgressEvent)>::new(move |ev: web_sys::ProgressEvent| {
            if ev.length_computable() && ev.total() > 0.0 {
                on_progress(((ev.loaded() / ev.total()) * 100.0).round().clamp(0.0, 100.0) as u8);
            }
        });
        if let Ok(upload) = xhr.upload() {
            upload.set_onprogress(Some(progress.as_ref().unchecked_ref()));
        }
        let done = {
            let xhr = xhr.clone();
            Closure::<dyn FnMut()>::new(move || {
                let status = xhr.status().unwrap_or(0);
                on_end(status, xhr.response_text().ok().flatten().unwrap_or_default());
            })
        };
        xhr.set_onloadend(Some(done.as_ref().unchecked_ref()));
        progress.forget();
        done.forget();
        let _ = xhr.send_with_opt_form_data(Some(&form));
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = (input_id, url, on_progress, on_end);
    }
}

/// The form a submit event is for, with its default (a page load) prevented.
#[cfg(feature = "hydrate")]
pub fn submitted_form(ev: &leptos::ev::SubmitEvent) -> Option<web_sys::HtmlFormElement> {
    use wasm_bindgen::JsCast;
    let form = ev.target()?.dyn_into::<web_sys::HtmlFormElement>().ok()?;
    ev.prevent_default();
    Some(form)
}

/// Sends `form` as the browser would (its fields, urlencoded, to its action), but with `fetch`
/// and answered in JSON instead of a redirect: the answer's status and text.
#[cfg(feature = "hydrate")]
pub async fn send_form(form: &web_sys::HtmlFormElement) -> Option<(u16, String)> {
    let data = web_sys::FormData::new_with_form(form).ok()?;
    let body = web_sys::UrlSearchParams::new_with_str_sequence_sequence(&data).ok()?;
    post_form(&form.action(), &String::from(body.to_string())).await
}

/// POSTs an urlencoded `body` to `url` (a server function, say) asking for JSON: the answer's
/// status and text, `None` when there was no answer.
#[cfg(feature = "hydrate")]
pub async fn post_form(url: &str, body: &str) -> Option<(u16, String)> {
    use wasm_bindgen::JsCast;
    use wasm_bindgen_futures::JsFuture;
    let headers = web_sys::Headers::new().ok()?;
    headers.set("content-type", "application/x-www-form-urlencoded").ok()?;
    headers.set("accept", "application/json").ok()?;
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_headers(&headers);
    init.set_body(&wasm_bindgen::JsValue::from_str(body));
    let res = JsFuture::from(window().fetch_with_str_and_init(url, &init)).await.ok()?;
    let res = res.dyn_into::<web_sys::Response>().ok()?;
    let text = JsFuture::from(res.text().ok()?).await.ok()?.as_string()?;
    Some((res.status(), text))
}

/// Disables `form`'s submit button while it is on its way; `labels`: its text meanwhile and after.
#[cfg(feature = "hydrate")]
pub fn set_busy(form: &web_sys::HtmlFormElement, busy: bool, labels: Option<(&str, &str)>) {
    let Some(button) = form.query_selector("button[type=submit]").ok().flatten() else { return };
    let _ = if busy { button.set_attribute("disabled", "") } else { button.remove_attribute("disabled") };
    if let Some((during, after)) = labels {
        button.set_text_content(Some(if busy { during } else { after }));
    }
}

/// Sets the text of the first element inside `within` matching `selector`.
#[cfg(feature = "hydrate")]
pub fn set_text(within: &web_sys::Element, selector: &str, text: &str) {
    if let Some(el) = within.query_selector(selector).ok().flatten() {
        el.set_text_content(Some(text));
    }
}

/// Sets the HTML inside the first element within `within` matching `selector`.
#[cfg(feature = "hydrate")]
pub fn set_html(within: &web_sys::Element, selector: &str, html: &str) {
    if let Some(el) = within.query_selector(selector).ok().flatten() {
        el.set_inner_html(html);
    }
}

/// Sets the value of the first input inside `within` matching `selector`.
#[cfg(feature = "hydrate")]
pub fn set_value(within: &web_sys::Element, selector: &str, value: &str) {
    if let Some(el) = within.query_selector(selector).ok().flatten() {
        let _ = el.set_attribute("value", value);
    }
}

/// Percent-encodes a query value (cursors are URL-safe base64 already; this keeps them so,
/// and anything a visitor typed into the address bar stays one value).
pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// [`send_form`] with the form's button disabled meanwhile (`labels`: its text meanwhile and after).
#[cfg(feature = "hydrate")]
pub async fn send_form_busy(form: &web_sys::HtmlFormElement, labels: Option<(&str, &str)>) -> Option<(u16, String)> {
    set_busy(form, true, labels);
    let answer = send_form(form).await;
    set_busy(form, false, labels);
    answer
}

/// Sends `form` with [`send_form_busy`] and gives back why it was refused: `None` when it went
/// through (or no answer came).
#[cfg(feature = "hydrate")]
pub async fn send_form_for_refusal(
    form: &web_sys::HtmlFormElement,
    labels: Option<(&str, &str)>,
) -> Option<crate::models::AppError> {
    let answer = send_form_busy(form, labels).await;
    answer.filter(|(status, _)| !(200..300).contains(status)).and_then(|(_, text)| json::app_error(&text))
}

/// The value of attribute `name` on the element with id `id` in the page (the server writes
/// what an island needs to know there, so the island takes no props to deserialise).
#[cfg(feature = "hydrate")]
pub fn page_data(id: &str, name: &str) -> Option<String> {
    document().get_element_by_id(id)?.get_attribute(name)
}

/// Sends the browser to `url` (a download answers with an attachment, so the page stays).
pub fn navigate(url: &str) {
    #[cfg(feature = "hydrate")]
    {
        let _ = window().location().set_href(url);
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = url;
    }
}

/// `<body data-hydrated="true">` says the page is interactive (browser tests wait for it).
/// Islands load their code after `hydrate` returns, each in its own time, so `hydrate`
/// counts them ([`expect_islands`]) and each one reports in ([`island_ready`]); the last
/// sets the mark.
#[cfg(feature = "hydrate")]
static ISLANDS_LEFT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

#[cfg(feature = "hydrate")]
fn mark_hydrated() {
    if let Some(body) = document().body() {
        let _ = body.set_attribute("data-hydrated", "true");
    }
}

/// Called by `hydrate` before the islands load.
#[cfg(feature = "hydrate")]
pub fn expect_islands() {
    let n = document().query_selector_all("leptos-island").map(|l| l.length()).unwrap_or(0);
    ISLANDS_LEFT.store(n, std::sync::atomic::Ordering::Relaxed);
    if n == 0 {
        mark_hydrated();
    }
}

/// Called at the top of every island: once its view is live (the effect runs after the
/// island has hydrated), it counts as ready.
pub fn island_ready() {
    #[cfg(feature = "hydrate")]
    Effect::new(|_| {
        if ISLANDS_LEFT.fetch_sub(1, std::sync::atomic::Ordering::Relaxed) == 1 {
            mark_hydrated();
        }
    });
}
