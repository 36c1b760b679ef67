//! `application/x-www-form-urlencoded` bodies, Stripe's request format (reqwest's `form`
//! feature is not enabled in this workspace, and the encoding is a few lines).

use std::fmt::Write;

/// Encode `pairs` in order: unreserved bytes as is, space as `+`, the rest `%XX`.
pub(super) fn encode(pairs: &[(String, String)]) -> String {
    let mut out = String::new();
    for (i, (name, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        escape_into(&mut out, name);
        out.push('=');
        escape_into(&mut out, value);
    }
    out
}

fn escape_into(out: &mut String, text: &str) {
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => {
                out.push(char::from(byte));
            }
            b' ' => out.push('+'),
            _ => {
                let _ = write!(out, "%{byte:02X}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brackets_spaces_and_non_ascii_are_escaped() {
        let pairs = vec![
            ("line_items[0][quantity]".to_owned(), "1".to_owned()),
            ("name".to_owned(), "Café & Co 50%".to_owned()),
        ];
        assert_eq!(
            encode(&pairs),
            "line_items%5B0%5D%5Bquantity%5D=1&name=Caf%C3%A9+%26+Co+50%25"
        );
    }
}
