//! Share by link: a whole scenario in a few hundred URL-safe characters, so that a link and a
//! scenario file are interchangeable. The text is `s1.` followed by the scenario's compact RON,
//! deflated and written in URL-safe base64 without padding; it may stand alone, follow a `#`
//! (a page's address with the link as its fragment: `https://host/optiscape/#s1.…`), or be a
//! whole address. Decoding is strict and bounded: anything malformed, tampered with or too
//! large is one line of text, never a panic, and what it yields is validated like a file.

use crate::scenario::{MAX_FILE, Scenario};

/// The prefix of the format this build writes (and the only one it reads).
pub const PREFIX: &str = "s1.";

/// Longest link text read, in characters (far beyond any real scenario's).
pub const MAX_LINK: usize = 64 * 1024;

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// The link text of a scenario (without a page address: append it to one after `#`).
pub fn encode(scenario: &Scenario) -> Result<String, String> {
    let ron =
        ron::ser::to_string(scenario).map_err(|e| format!("could not write the link: {e}"))?;
    let packed = miniz_oxide::deflate::compress_to_vec_zlib(ron.as_bytes(), 10);
    Ok(format!("{PREFIX}{}", base64url(&packed)))
}

/// The scenario of a link: the link text, `#` and the text, or a whole address ending in them.
pub fn decode(text: &str) -> Result<Scenario, String> {
    let text = text.trim();
    if text.len() > MAX_LINK {
        return Err(format!(
            "the link is too long ({} characters; at most {MAX_LINK})",
            text.len()
        ));
    }
    let payload = match text.rsplit_once('#') {
        Some((_, fragment)) => fragment,
        None => text,
    };
    let Some(body) = payload.strip_prefix(PREFIX) else {
        return Err(if payload.is_empty() {
            "the link is empty (it should end in #s1.…)".to_string()
        } else {
            format!("not an optiscape link (it should start with '{PREFIX}')")
        });
    };
    let packed = unbase64url(body).ok_or("the link is damaged (not URL-safe base64)")?;
    let ron = String::from_utf8(unpack(&packed)?)
        .map_err(|_| "the link is damaged (not text)".to_string())?;
    Scenario::parse(&ron, "the link")
}

/// Inflates a whole zlib stream (checksum verified, nothing after it, at most `MAX_FILE` bytes).
fn unpack(packed: &[u8]) -> Result<Vec<u8>, String> {
    use miniz_oxide::inflate::stream::{InflateState, inflate};
    use miniz_oxide::{DataFormat, MZFlush, MZStatus};
    let mut state = InflateState::new_boxed(DataFormat::Zlib);
    let mut out = vec![0; MAX_FILE + 1];
    let r = inflate(&mut state, packed, &mut out, MZFlush::Finish);
    match r.status {
        Ok(MZStatus::StreamEnd) if r.bytes_consumed == packed.len() => {
            out.truncate(r.bytes_written);
            Ok(out)
        }
        Ok(MZStatus::StreamEnd) => Err("the link is damaged (data after its end)".into()),
        _ if r.bytes_written > MAX_FILE => Err(format!(
            "the link's scenario is too large (more than {MAX_FILE} bytes)"
        )),
        _ => Err("the link is damaged (its data does not unpack)".into()),
    }
}

fn base64url(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let digits = chunk.len() + 1;
        for i in 0..digits {
            out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

fn unbase64url(text: &str) -> Option<Vec<u8>> {
    let value = |c: u8| ALPHABET.iter().position(|&a| a == c).map(|v| v as u32);
    let bytes = text.as_bytes();
    if bytes.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3 + 2);
    for chunk in bytes.chunks(4) {
        let mut n = 0;
        for (i, &c) in chunk.iter().enumerate() {
            n |= value(c)? << (18 - 6 * i);
        }
        let full = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        let keep = chunk.len() - 1;
        // The unused low bits of a short final chunk must be zero (one text per link).
        if full[keep..].iter().any(|&b| b != 0) && keep < 3 {
            return None;
        }
        out.extend_from_slice(&full[..keep]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_round_trips_every_length() {
        for n in 0..70u8 {
            let data: Vec<u8> = (0..n).map(|i| i.wrapping_mul(37).wrapping_add(n)).collect();
            let text = base64url(&data);
            assert!(text.bytes().all(|c| ALPHABET.contains(&c)));
            assert_eq!(unbase64url(&text), Some(data), "{n}");
        }
        assert_eq!(unbase64url("A"), None);
        assert_eq!(unbase64url("AB=="), None);
        assert_eq!(unbase64url("A+"), None);
        // Non-zero spare bits: a second spelling of the same bytes is refused.
        assert_eq!(unbase64url("AB"), None);
        assert_eq!(unbase64url("AA"), Some(vec![0]));
    }
}
