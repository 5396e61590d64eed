//! The browser's side of the web page (wasm32 only; no Bevy): the address's fragment, local
//! storage, downloads, and files the user opens (the file picker, or dropped on the page).
//! Everything here fails softly: a browser that refuses (private mode, a blocked download)
//! gives an error string for the caller's message, never a panic.

use std::sync::Mutex;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

fn window() -> Result<web_sys::Window, String> {
    web_sys::window().ok_or_else(|| "no browser window".to_string())
}

fn js_error(e: JsValue) -> String {
    e.as_string()
        .or_else(|| {
            e.dyn_ref::<js_sys::Error>()
                .map(|e| String::from(e.message()))
        })
        .unwrap_or_else(|| format!("{e:?}"))
}

/// The address's fragment without its `#` (percent-decoded), or "".
pub fn location_hash() -> String {
    let Ok(hash) = window().and_then(|w| w.location().hash().map_err(js_error)) else {
        return String::new();
    };
    let hash = hash.strip_prefix('#').unwrap_or(&hash);
    js_sys::decode_uri_component(hash)
        .ok()
        .and_then(|s| s.as_string())
        .unwrap_or_else(|| hash.to_string())
}

/// Milliseconds since 1970 (the browser's clock).
pub fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// The value stored under `key` in the page's local storage.
pub fn storage_get(key: &str) -> Option<String> {
    let storage = window().ok()?.local_storage().ok()??;
    storage.get_item(key).ok()?
}

/// Stores `value` under `key` in the page's local storage.
pub fn storage_set(key: &str, value: &str) -> Result<(), String> {
    let storage = window()?
        .local_storage()
        .map_err(js_error)?
        .ok_or_else(|| "this page has no local storage".to_string())?;
    storage.set_item(key, value).map_err(js_error)
}

/// Offers `bytes` to the user as a download named `name`.
pub fn download(name: &str, mime: &str, bytes: &[u8]) -> Result<(), String> {
    let document = window()?
        .document()
        .ok_or_else(|| "no document".to_string())?;
    let array = js_sys::Uint8Array::from(bytes);
    let parts = js_sys::Array::of1(&array);
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let blob = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &options)
        .map_err(js_error)?;
    let url = web_sys::Url::create_object_url_with_blob(&blob).map_err(js_error)?;
    let anchor: web_sys::HtmlAnchorElement = document
        .create_element("a")
        .map_err(js_error)?
        .dyn_into()
        .map_err(|_| "not an anchor".to_string())?;
    anchor.set_href(&url);
    anchor.set_download(name);
    anchor.click();
    // The browser has taken the blob's contents once the click is handled.
    let revoke = Closure::once_into_js(move || {
        let _ = web_sys::Url::revoke_object_url(&url);
    });
    window()?
        .set_timeout_with_callback_and_timeout_and_arguments_0(revoke.unchecked_ref(), 10_000)
        .map_err(js_error)?;
    Ok(())
}

/// A file the user opened: its name and contents.
#[derive(Clone, Debug)]
pub struct OpenedFile {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// Files opened (picker or drop) and not yet taken by the sandbox.
static OPENED: Mutex<Vec<OpenedFile>> = Mutex::new(Vec::new());

/// The files opened since the last call, oldest first.
pub fn take_opened() -> Vec<OpenedFile> {
    OPENED
        .lock()
        .map(|mut v| std::mem::take(&mut *v))
        .unwrap_or_default()
}

/// Reads `file` and queues it for [`take_opened`].
fn read_file(file: web_sys::File) {
    let mut name = Some(file.name());
    let done = Closure::<dyn FnMut(JsValue)>::new(move |buffer: JsValue| {
        let bytes = js_sys::Uint8Array::new(&buffer).to_vec();
        if let (Some(name), Ok(mut v)) = (name.take(), OPENED.lock()) {
            v.push(OpenedFile { name, bytes });
        }
    });
    let _ = file.array_buffer().then(&done);
    // Called once, when the file is read; small.
    done.forget();
}

/// Opens the browser's file picker for `accept` (e.g. ".ron"); the chosen file arrives
/// through [`take_opened`].
pub fn pick_file(accept: &str) -> Result<(), String> {
    let document = window()?
        .document()
        .ok_or_else(|| "no document".to_string())?;
    let input: web_sys::HtmlInputElement = document
        .create_element("input")
        .map_err(js_error)?
        .dyn_into()
        .map_err(|_| "not an input".to_string())?;
    input.set_type("file");
    input.set_accept(accept);
    let chosen = input.clone();
    let on_change = Closure::once_into_js(move || {
        if let Some(file) = chosen.files().and_then(|f| f.get(0)) {
            read_file(file);
        }
    });
    input.set_onchange(Some(on_change.unchecked_ref()));
    input.click();
    Ok(())
}

/// Files dropped anywhere on the page arrive through [`take_opened`] (called once, at start).
pub fn accept_dropped_files() -> Result<(), String> {
    let document = window()?
        .document()
        .ok_or_else(|| "no document".to_string())?;
    // The page must take the drag over it, or the browser opens the file itself.
    let over = Closure::<dyn FnMut(web_sys::DragEvent)>::new(|e: web_sys::DragEvent| {
        e.prevent_default();
    });
    let drop = Closure::<dyn FnMut(web_sys::DragEvent)>::new(|e: web_sys::DragEvent| {
        e.prevent_default();
        let Some(files) = e.data_transfer().and_then(|d| d.files()) else {
            return;
        };
        for i in 0..files.length() {
            if let Some(file) = files.get(i) {
                read_file(file);
            }
        }
    });
    document
        .add_event_listener_with_callback("dragover", over.as_ref().unchecked_ref())
        .map_err(js_error)?;
    document
        .add_event_listener_with_callback("drop", drop.as_ref().unchecked_ref())
        .map_err(js_error)?;
    // The listeners live as long as the page.
    over.forget();
    drop.forget();
    Ok(())
}

/// The sandbox's state for the page's tests (`window.optiscape_state()`), written by the
/// sandbox once per frame.
static STATE: Mutex<String> = Mutex::new(String::new());

/// Replaces the state the page's tests read.
pub fn publish_state(json: String) {
    if let Ok(mut s) = STATE.lock() {
        *s = json;
    }
}

/// The sandbox's state as JSON (see `app::sandbox_state`), for the page's tests.
#[wasm_bindgen]
pub fn optiscape_state() -> String {
    STATE.lock().map(|s| s.clone()).unwrap_or_default()
}

/// Tells the page's loading screen that the first frame is drawn.
pub fn page_ready() {
    if let Ok(w) = window()
        && let Ok(f) = js_sys::Reflect::get(&w, &JsValue::from_str("optiscapeReady"))
        && let Some(f) = f.dyn_ref::<js_sys::Function>()
    {
        let _ = f.call0(&JsValue::NULL);
    }
}
