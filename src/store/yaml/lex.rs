//! Byte-exact token extents and comment recovery on top of saphyr-parser's events.
//!
//! saphyr-parser validates the YAML and gives every scalar's value, style and start. Its
//! spans count characters (not bytes), start at the node's properties (`&anchor !tag`)
//! rather than the scalar itself, and overrun the end of quoted scalars and block
//! scalars. Splicing needs the exact bytes of each token, so this module re-lexes the
//! small region around each scalar. Comments are not reported by the parser at all:
//! they are recovered from the text between tokens, where a `#` after whitespace (or at
//! the start of a line) always starts a comment.

/// Converts saphyr's character indexes into byte offsets, moving a cursor forward.
///
/// Events arrive in source order, so a forward cursor makes the conversion linear over
/// the whole file; a backward request restarts from the beginning (rare).
pub struct CharToByte<'a> {
    text: &'a str,
    ascii: bool,
    char_at: usize,
    byte_at: usize,
}

impl<'a> CharToByte<'a> {
    pub fn new(text: &'a str) -> Self {
        CharToByte {
            text,
            ascii: text.is_ascii(),
            char_at: 0,
            byte_at: 0,
        }
    }

    pub fn byte(&mut self, char_index: usize) -> usize {
        if self.ascii {
            return char_index.min(self.text.len());
        }
        if char_index < self.char_at {
            self.char_at = 0;
            self.byte_at = 0;
        }
        let mut chars = self.text[self.byte_at..].char_indices();
        while self.char_at < char_index {
            match chars.next() {
                Some((_, c)) => {
                    self.byte_at += c.len_utf8();
                    self.char_at += 1;
                }
                None => break,
            }
        }
        self.byte_at
    }
}

/// Line starts, for turning byte offsets into 1-based lines and columns.
pub struct Lines {
    starts: Vec<usize>,
}

impl Lines {
    pub fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1));
        Lines { starts }
    }

    /// 0-based line index of a byte offset.
    pub fn line_index(&self, byte: usize) -> usize {
        match self.starts.binary_search(&byte) {
            Ok(i) => i,
            Err(i) => i - 1,
        }
    }

    pub fn line_start(&self, line_index: usize) -> usize {
        self.starts[line_index]
    }

    /// 1-based line and column (column in characters) of a byte offset.
    pub fn location(&self, text: &str, byte: usize) -> crate::error::Location {
        let line = self.line_index(byte);
        let start = self.starts[line];
        let column = text
            .get(start..byte.min(text.len()))
            .map_or(byte - start, |s| s.chars().count())
            + 1;
        crate::error::Location {
            line: line + 1,
            column,
        }
    }
}

fn memchr_iter(needle: u8, haystack: &[u8]) -> impl Iterator<Item = usize> + '_ {
    haystack
        .iter()
        .enumerate()
        .filter_map(move |(i, &b)| (b == needle).then_some(i))
}

/// Skips node properties (`&anchor`, `!tag`) and the whitespace after them.
pub fn skip_properties(bytes: &[u8], mut at: usize) -> usize {
    loop {
        while at < bytes.len() && matches!(bytes[at], b' ' | b'\t' | b'\r' | b'\n') {
            at += 1;
        }
        if at < bytes.len() && matches!(bytes[at], b'&' | b'!') {
            while at < bytes.len() && !matches!(bytes[at], b' ' | b'\t' | b'\r' | b'\n') {
                at += 1;
            }
        } else {
            return at;
        }
    }
}

/// The start of the tag (`!...`) among the node properties in `bytes[from..to]`.
pub fn tag_start(bytes: &[u8], from: usize, to: usize) -> Option<usize> {
    let mut at = from;
    while at < to {
        match bytes[at] {
            b' ' | b'\t' | b'\r' | b'\n' => at += 1,
            b'!' => return Some(at),
            b'&' => {
                while at < to && !matches!(bytes[at], b' ' | b'\t' | b'\r' | b'\n') {
                    at += 1;
                }
            }
            _ => return None,
        }
    }
    None
}

/// End of a single-quoted scalar starting at `start` (on the opening quote).
pub fn single_quoted_end(bytes: &[u8], start: usize) -> Option<usize> {
    let mut at = start + 1;
    while at < bytes.len() {
        if bytes[at] == b'\'' {
            if bytes.get(at + 1) == Some(&b'\'') {
                at += 2;
                continue;
            }
            return Some(at + 1);
        }
        at += 1;
    }
    None
}

/// End of a double-quoted scalar starting at `start` (on the opening quote).
pub fn double_quoted_end(bytes: &[u8], start: usize) -> Option<usize> {
    let mut at = start + 1;
    while at < bytes.len() {
        match bytes[at] {
            b'\\' => at += 2,
            b'"' => return Some(at + 1),
            _ => at += 1,
        }
    }
    None
}

/// The parts of a block scalar (`|` or `>`), found by lexing from its indicator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockScalar {
    /// End of the header's indicators (`|`, `|-`, `>+2`...).
    pub header_end: usize,
    /// A comment on the header line: byte range of the `#` through the end of the line.
    pub header_comment: Option<std::ops::Range<usize>>,
    /// Start of the first content line (after the header's line break).
    pub content_start: usize,
    /// End of the last line holding non-blank content (before its line break); equals
    /// `header_end` for an empty block.
    pub end: usize,
    /// Column of the content lines.
    pub indent: usize,
}

/// Lexes a block scalar whose indicator is at `start`; `limit` is where saphyr says the
/// scalar (with trailing blank lines) ends.
pub fn block_scalar(bytes: &[u8], start: usize, limit: usize) -> BlockScalar {
    let mut at = start + 1;
    let mut explicit_indent = None;
    while at < bytes.len() && matches!(bytes[at], b'+' | b'-' | b'1'..=b'9') {
        if bytes[at].is_ascii_digit() {
            explicit_indent = Some((bytes[at] - b'0') as usize);
        }
        at += 1;
    }
    let header_end = at;
    let mut header_comment = None;
    while at < bytes.len() && bytes[at] != b'\n' {
        if bytes[at] == b'#' && header_comment.is_none() {
            let mut end = at;
            while end < bytes.len() && bytes[end] != b'\n' {
                end += 1;
            }
            if end > at && bytes[end - 1] == b'\r' {
                end -= 1;
            }
            header_comment = Some(at..end);
        }
        at += 1;
    }
    let content_start = (at + 1).min(bytes.len());
    let limit = limit.max(content_start).min(bytes.len());

    // The last line with non-blank content, and the indentation of the first one.
    let mut end = header_end;
    let mut indent = None;
    let mut line_start = content_start;
    while line_start < limit {
        let mut line_end = line_start;
        while line_end < limit && bytes[line_end] != b'\n' {
            line_end += 1;
        }
        let spaces = bytes[line_start..line_end]
            .iter()
            .take_while(|&&b| b == b' ')
            .count();
        let blank = bytes[line_start..line_end]
            .iter()
            .all(|b| matches!(b, b' ' | b'\t' | b'\r'));
        if !blank {
            indent.get_or_insert(spaces);
            end = line_end;
            if end > line_start && bytes[end - 1] == b'\r' {
                end -= 1;
            }
        }
        line_start = line_end + 1;
    }
    let indent = match (explicit_indent, indent) {
        (Some(n), _) => parent_column(bytes, start) + n,
        (None, Some(n)) => n,
        (None, None) => parent_column(bytes, start) + 2,
    };
    BlockScalar {
        header_end,
        header_comment,
        content_start,
        end,
        indent,
    }
}

/// Finds the `|` or `>` of a block scalar whose content starts at `content`: the last
/// indicator on the nearest non-blank line above, ignoring a trailing comment.
pub fn block_indicator_before(bytes: &[u8], content: usize) -> Option<usize> {
    let mut line_end = line_start_of(bytes, content);
    while line_end > 0 {
        let start = line_start_of(bytes, line_end - 1);
        let line = &bytes[start..line_end - 1];
        if line.iter().any(|b| !matches!(b, b' ' | b'\t' | b'\r')) {
            // Cut a comment: a `#` after whitespace.
            let cut = (1..line.len())
                .find(|&i| line[i] == b'#' && matches!(line[i - 1], b' ' | b'\t'))
                .unwrap_or(line.len());
            return line[..cut]
                .iter()
                .rposition(|&b| b == b'|' || b == b'>')
                .map(|i| start + i);
        }
        line_end = start;
    }
    None
}

/// Column of the first non-space character on the line holding `at`.
pub fn parent_column(bytes: &[u8], at: usize) -> usize {
    let start = line_start_of(bytes, at);
    bytes[start..at].iter().take_while(|&&b| b == b' ').count()
}

/// Byte offset of the start of the line holding `at`.
pub fn line_start_of(bytes: &[u8], at: usize) -> usize {
    bytes[..at.min(bytes.len())]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1)
}

/// The UTF-8 byte order mark.
const BOM: &[u8] = b"\xef\xbb\xbf";

/// A comment found between tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawComment {
    /// Byte offset of the `#`.
    pub hash: usize,
    /// End of the comment text (before the line break, and before a `\r`).
    pub end: usize,
    /// True when something other than whitespace precedes the `#` on its line.
    pub trailing: bool,
}

/// Finds comments in `text[from..to]`, a stretch that holds no scalar token.
pub fn comments_in_gap(bytes: &[u8], from: usize, to: usize, out: &mut Vec<RawComment>) {
    let mut at = from;
    while at < to {
        let after_space = at == 0
            || matches!(bytes[at - 1], b' ' | b'\t' | b'\n' | b'\r')
            || (at == BOM.len() && bytes.starts_with(BOM));
        if bytes[at] == b'#' && after_space {
            let mut end = at;
            while end < bytes.len() && bytes[end] != b'\n' {
                end += 1;
            }
            if end > at && bytes[end - 1] == b'\r' {
                end -= 1;
            }
            let line_start = line_start_of(bytes, at);
            let trailing = bytes[line_start..at]
                .iter()
                .any(|b| !matches!(b, b' ' | b'\t'));
            out.push(RawComment {
                hash: at,
                end,
                trailing,
            });
            at = end;
        } else {
            at += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn char_indexes_become_byte_offsets() {
        let text = "é: ü\nx: 1";
        let mut map = CharToByte::new(text);
        assert_eq!(map.byte(0), 0);
        assert_eq!(map.byte(3), 4); // 'ü' starts after "é: " (2 + 1 + 1 bytes)
        assert_eq!(map.byte(5), 7);
        assert_eq!(map.byte(1), 2); // backwards restarts
    }

    #[test]
    fn quoted_ends_stop_at_the_closing_quote() {
        let b = br#"'it''s' # c"#;
        assert_eq!(single_quoted_end(b, 0), Some(7));
        let b = br#""a\"b" # c"#;
        assert_eq!(double_quoted_end(b, 0), Some(6));
        assert_eq!(double_quoted_end(b"\"open", 0), None);
    }

    #[test]
    fn block_scalar_parts() {
        let text = "k: |- # note\n  one\n   two\n\nx: 1\n";
        let start = text.find('|').unwrap();
        let limit = text.find("x:").unwrap();
        let block = block_scalar(text.as_bytes(), start, limit);
        assert_eq!(&text[start..block.header_end], "|-");
        assert_eq!(&text[block.header_comment.clone().unwrap()], "# note");
        assert_eq!(&text[block.content_start..block.end], "  one\n   two");
        assert_eq!(block.indent, 2);
    }

    #[test]
    fn comments_need_whitespace_before_the_hash() {
        let text = "a: b#c # real\n# own\n";
        let mut found = Vec::new();
        comments_in_gap(text.as_bytes(), 0, text.len(), &mut found);
        let texts: Vec<_> = found.iter().map(|c| &text[c.hash..c.end]).collect();
        assert_eq!(texts, ["# real", "# own"]);
        assert!(found[0].trailing);
        assert!(!found[1].trailing);
    }

    #[test]
    fn lines_and_columns() {
        let text = "ab\nçd\n";
        let lines = Lines::new(text);
        assert_eq!(lines.location(text, 0).to_string(), "1:1");
        assert_eq!(lines.location(text, 5).to_string(), "2:2");
    }
}
