//! WebAssembly binding of `sympath-ident`: a separate module so the page's core
//! stays small; the page loads it only when a file is dropped.
#![forbid(unsafe_code)]

use wasm_bindgen::prelude::*;

#[path = "../../sympath-wasm/src/js.rs"]
mod js;
use js::{error, to_js};

/// Reads the identity of a file's bytes (PE, PDB, ELF, Mach-O, portable PDB,
/// or a CAB-compressed `.pd_`/`.ex_`). `fileName` names PE images and PDBs.
/// Throws an `Error` with a `code` property on bad input.
#[wasm_bindgen(js_name = readIdentity, unchecked_return_type = "FileInfo")]
pub fn read_identity(bytes: &[u8], #[wasm_bindgen(js_name = fileName)] file_name: Option<String>) -> Result<JsValue, JsValue> {
    match sympath_ident::read(bytes, file_name.as_deref()) {
        Ok(info) => to_js(&info),
        Err(e) => Err(error(error_code(&e), e)),
    }
}

/// What a file is by its first bytes (`"pdb"`, `"cab"`, `"html"`, `"empty"`…).
#[wasm_bindgen]
pub fn sniff(bytes: &[u8]) -> String {
    sympath_ident::sniff(bytes).as_str().to_string()
}

/// Expands a single-file cabinet (`.pd_`): the bytes of the file inside.
#[wasm_bindgen(js_name = decompressCab)]
pub fn decompress_cab(bytes: &[u8]) -> Result<Vec<u8>, JsValue> {
    sympath_ident::decompress_cab(bytes).map(|(_, data)| data).map_err(|e| error(error_code(&e), e))
}

/// Expands a single-file cabinet into at most `limit` bytes: the name of
/// the file inside (the lookup engine checks it is the file asked for) and
/// its bytes. Throws `too-large` past the limit, `corrupt` on a bad cabinet.
#[wasm_bindgen(js_name = expandCab, unchecked_return_type = "{ name: string; bytes: Uint8Array }")]
pub fn expand_cab(bytes: &[u8], limit: f64) -> Result<JsValue, JsValue> {
    let (name, data) = sympath_ident::decompress_cab_with_limit(bytes, limit as u64).map_err(|e| error(error_code(&e), e))?;
    let out = js_sys::Object::new();
    js_sys::Reflect::set(&out, &JsValue::from_str("name"), &JsValue::from_str(&name))?;
    js_sys::Reflect::set(&out, &JsValue::from_str("bytes"), &js_sys::Uint8Array::from(data.as_slice()))?;
    Ok(out.into())
}

/// Reads a minidump's module list: per module its name, version, base, size,
/// PDB name, debug id, code id and the store identities (PDB, image) to fetch.
#[wasm_bindgen(js_name = readMinidump, unchecked_return_type = "DumpInfo")]
pub fn read_minidump(bytes: &[u8]) -> Result<JsValue, JsValue> {
    match sympath_ident::read_minidump(bytes) {
        Ok(info) => to_js(&info),
        Err(e) => Err(error(error_code(&e), e)),
    }
}

fn error_code(e: &sympath_ident::IdentError) -> &'static str {
    match e {
        sympath_ident::IdentError::Corrupt { .. } => "corrupt",
        sympath_ident::IdentError::Unsupported(_) => "unsupported",
        sympath_ident::IdentError::TooLarge { .. } => "too-large",
        sympath_ident::IdentError::Key(_) => "bad-key",
    }
}
