//! A small server-sent-events reader (the parts of the WHATWG event-stream format the
//! console uses: `event:`, `id:`, `data:` lines, a blank line ends an event, `:` comments
//! are keep-alives), and what a claim row carries.

/// One event as dispatched by a blank line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SseEvent {
    /// `event:` (`message` when the event named none).
    pub event: String,
    /// `id:`, when the event had one.
    pub id: Option<String>,
    /// Every `data:` line, joined by `\n`.
    pub data: String,
}

/// Bytes in, whole events out; a line or an event split across chunks is kept until the
/// rest arrives.
#[derive(Debug, Default)]
pub struct SseParser {
    /// Only events of these types keep their data (all when empty): the others are
    /// dispatched with none, so large ones cost a scan for line ends and no copy.
    keep: Vec<String>,
    buf: Vec<u8>,
    /// How much of `buf` is known to hold no `\n` (long lines arrive in many chunks).
    scanned: usize,
    event: Option<String>,
    id: Option<String>,
    data: String,
    has_data: bool,
}

impl SseParser {
    /// A parser that keeps the data of events of `types` only (an event whose `data:` comes
    /// before its `event:` line keeps it).
    pub fn keeping(types: &[&str]) -> SseParser {
        SseParser {
            keep: types.iter().map(|t| (*t).to_owned()).collect(),
            ..SseParser::default()
        }
    }

    /// Feeds `bytes`; pushes every event they complete onto `out`.
    pub fn feed(&mut self, bytes: &[u8], out: &mut Vec<SseEvent>) {
        self.buf.extend_from_slice(bytes);
        let buf = std::mem::take(&mut self.buf);
        let mut start = 0;
        let mut from = self.scanned.max(start);
        while let Some(pos) = buf[from..].iter().position(|&b| b == b'\n') {
            let end = from + pos;
            let line = &buf[start..end];
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            self.line(line, out);
            start = end + 1;
            from = start;
        }
        self.buf = buf;
        self.buf.drain(..start);
        self.scanned = self.buf.len();
    }

    fn line(&mut self, line: &[u8], out: &mut Vec<SseEvent>) {
        if line.is_empty() {
            self.dispatch(out);
            return;
        }
        if line[0] == b':' {
            return;
        }
        let (field, value) = match line.iter().position(|&b| b == b':') {
            Some(colon) => {
                let value = &line[colon + 1..];
                (&line[..colon], value.strip_prefix(b" ").unwrap_or(value))
            }
            None => (line, &b""[..]),
        };
        if field == b"data" {
            let keep =
                self.keep.is_empty() || self.event.as_ref().is_none_or(|e| self.keep.contains(e));
            if keep {
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(&String::from_utf8_lossy(value));
            }
            self.has_data = true;
            return;
        }
        let value = String::from_utf8_lossy(value);
        match field {
            b"event" => self.event = Some(value.into_owned()),
            b"id" if !value.contains('\0') => self.id = Some(value.into_owned()),
            _ => {}
        }
    }

    fn dispatch(&mut self, out: &mut Vec<SseEvent>) {
        let event = self.event.take();
        let id = self.id.take();
        if !std::mem::take(&mut self.has_data) {
            return;
        }
        out.push(SseEvent {
            event: event.unwrap_or_else(|| "message".into()),
            id,
            data: std::mem::take(&mut self.data),
        });
    }
}

/// What the bench reads of a `tr.claim` row: its claim and outbox event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Row {
    /// `data-claim-id`.
    pub claim_id: i64,
    /// `data-event-id`.
    pub event_id: i64,
}

impl Row {
    /// The ids of a claim row's HTML, if it has both.
    pub fn parse(html: &str) -> Option<Row> {
        Some(Row {
            claim_id: attribute(html, "data-claim-id")?.parse().ok()?,
            event_id: attribute(html, "data-event-id")?.parse().ok()?,
        })
    }
}

/// The value of the first `name="…"` attribute in `html`.
pub fn attribute<'a>(html: &'a str, name: &str) -> Option<&'a str> {
    let key = format!("{name}=\"");
    let start = html.find(&key)? + key.len();
    let len = html[start..].find('"')?;
    Some(&html[start..start + len])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(chunks: &[&[u8]]) -> Vec<SseEvent> {
        let mut parser = SseParser::default();
        let mut out = Vec::new();
        for chunk in chunks {
            parser.feed(chunk, &mut out);
        }
        out
    }

    #[test]
    fn events_as_axum_writes_them() {
        let out = events(&[
            b"event: hello\ndata: connected\n\nevent: claim\nid: 42\ndata: <tr class=\"claim\"></tr>\n\n",
        ]);
        assert_eq!(
            out,
            vec![
                SseEvent {
                    event: "hello".into(),
                    id: None,
                    data: "connected".into()
                },
                SseEvent {
                    event: "claim".into(),
                    id: Some("42".into()),
                    data: "<tr class=\"claim\"></tr>".into()
                },
            ]
        );
    }

    #[test]
    fn an_event_split_anywhere_across_chunks_comes_out_whole_and_once() {
        let whole: &[u8] = b"event: panel\ndata: a\ndata: b\n\n:keep-alive\n\nevent: claim\r\nid: 7\r\ndata:x\r\n\r\n";
        let expected = events(&[whole]);
        assert_eq!(expected.len(), 2);
        assert_eq!(expected[0].data, "a\nb");
        assert_eq!(expected[1].data, "x");
        for split in 0..whole.len() {
            let (a, b) = whole.split_at(split);
            assert_eq!(events(&[a, b]), expected, "split at {split}");
        }
        let bytes: Vec<&[u8]> = whole.chunks(1).collect();
        assert_eq!(events(&bytes), expected);
    }

    #[test]
    fn only_the_kept_types_keep_their_data() {
        let mut parser = SseParser::keeping(&["claim"]);
        let mut out = Vec::new();
        parser.feed(
            b"event: panel\ndata: <big/>\n\nevent: claim\nid: 3\ndata: <tr/>\n\n",
            &mut out,
        );
        assert_eq!(out.len(), 2);
        assert_eq!((out[0].event.as_str(), out[0].data.as_str()), ("panel", ""));
        assert_eq!(
            (out[1].event.as_str(), out[1].data.as_str()),
            ("claim", "<tr/>")
        );
    }

    #[test]
    fn comments_and_empty_events_dispatch_nothing() {
        assert!(events(&[b": ping\n\n\n\nevent: lonely\n\n"]).is_empty());
        let out = events(&[b"data: plain\n\n"]);
        assert_eq!(out[0].event, "message");
    }

    #[test]
    fn a_claim_row_gives_its_claim_and_event_ids() {
        let html = r#"<tr class="claim" data-event-id="981" data-claim-id="77" data-outcome="reserved"><td>12:00</td></tr>"#;
        assert_eq!(
            Row::parse(html),
            Some(Row {
                claim_id: 77,
                event_id: 981
            })
        );
        assert_eq!(attribute(html, "data-outcome"), Some("reserved"));
        assert_eq!(
            Row::parse(r#"<tr class="claim" data-event-id="5" data-outcome="x">"#),
            None
        );
    }
}
