//! A JSON validator that reads a payload's top-level keys without building anything.
//!
//! The handler must know that a body is one valid JSON text before it becomes an EventBridge
//! Detail, and it needs three top-level facts (`type`, `id`, whether the reserved key is taken).
//! A general-purpose parser does that at about half the speed of the HMAC that precedes it.
//! Here the answer comes from one of two scanners:
//! - on x86_64 with AVX2, a two-stage scanner ([`simd`]) that classifies 64 bytes at a time and
//!   then checks the grammar over the list of token positions, about 2 GB/s on dense payloads;
//! - everywhere, and for every refusal, the scalar scanner below: a single pass over the bytes
//!   with no allocation, strings skipped eight bytes at a time, in safe code. It gives the
//!   exact error and where it is.
//!
//! It accepts exactly what `serde_json` accepts when it skips a value (`IgnoredAny`), except that
//! it refuses nesting deeper than [`MAX_DEPTH`]; the unit tests and the fuzz target `json` check
//! that differentially, and hold the two scanners to each other.

use std::borrow::Cow;
use std::cell::Cell;

#[cfg(target_arch = "x86_64")]
mod simd;

/// Deeper nesting is refused. No provider nests its payloads more than a dozen levels, and a
/// body 10,000 levels deep is an attack on whoever parses the event next: `serde_json::Value`
/// refuses more than 127 levels, Python's `json` hits its recursion limit near 1,000. 100 leaves
/// room for the levels the event adds (`detail`, and `payload` when a body is wrapped).
pub const MAX_DEPTH: u32 = 100;

/// Why a text is not JSON, with the byte offset where that was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{kind} at byte {offset}")]
pub struct JsonError {
    pub kind: ErrorKind,
    pub offset: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ErrorKind {
    #[error("unexpected end of input")]
    Eof,
    #[error("expected a value")]
    ExpectedValue,
    #[error("expected a string key")]
    ExpectedKey,
    #[error("expected `:`")]
    ExpectedColon,
    #[error("expected `,` or a closing bracket")]
    ExpectedCommaOrEnd,
    #[error("invalid number")]
    InvalidNumber,
    #[error("invalid literal")]
    InvalidLiteral,
    #[error("control character in a string")]
    ControlCharacter,
    #[error("invalid escape")]
    InvalidEscape,
    #[error("nested more than 100 levels deep")]
    TooDeep,
    #[error("trailing characters")]
    TrailingCharacters,
}

/// What the handler needs from a payload's top level.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TopLevel<'t> {
    /// The value of the last top-level `type` member, when that value is a string.
    pub event_type: Option<Cow<'t, str>>,
    /// The value of the last top-level `id` member, when that value is a string.
    pub id: Option<Cow<'t, str>>,
    /// Whether a top-level member is named `name`, the key the caller reserves.
    pub has_reserved: bool,
}

impl<'t> TopLevel<'t> {
    /// Which wanted member a top-level key names (`None` when its escapes name a lone
    /// surrogate), noting on the way whether it is the reserved key.
    fn member(&mut self, key: Option<&str>, reserved: &str) -> Wanted {
        match key {
            Some("type") => Wanted::Type,
            Some("id") => Wanted::Id,
            Some(name) => {
                self.has_reserved |= name == reserved;
                Wanted::None
            }
            None => Wanted::None,
        }
    }

    /// Keeps a wanted member's value: the text of a string, `None` for any other value. The
    /// last occurrence wins, as in `serde_json::Value`; `value` runs only for a wanted member.
    fn keep(&mut self, wanted: Wanted, value: impl FnOnce() -> Option<Cow<'t, str>>) {
        match wanted {
            Wanted::Type => self.event_type = value(),
            Wanted::Id => self.id = value(),
            Wanted::None => {}
        }
    }
}

/// What the text was, once validated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scanned<'t> {
    Object(TopLevel<'t>),
    /// An array, string, number, boolean or null.
    Other,
}

/// Validate `text` as one JSON value (surrounding whitespace allowed) and read the top-level
/// `type` and `id` members of an object, and whether a member named `reserved` exists.
/// Keys and values are compared after unescaping, so `"typ\u0065"` is `type`.
pub fn scan<'t>(text: &'t str, reserved: &str) -> Result<Scanned<'t>, JsonError> {
    if let Some(scanned) = fast_scan(text, reserved) {
        return Ok(scanned);
    }
    scalar_scan(text, reserved)
}

/// The fast path of [`scan`] alone: `Some` exactly when `text` is valid (what [`scan`] would
/// return), `None` when it is not or when this CPU has no fast path. Public so the fuzz target
/// can hold it to [`scalar_scan`].
#[cfg(target_arch = "x86_64")]
pub fn fast_scan<'t>(text: &'t str, reserved: &str) -> Option<Scanned<'t>> {
    simd::scan(text, reserved)
}

#[cfg(not(target_arch = "x86_64"))]
pub fn fast_scan<'t>(_text: &'t str, _reserved: &str) -> Option<Scanned<'t>> {
    None
}

/// Whether this CPU runs [`fast_scan`].
pub fn fast_path_available() -> bool {
    #[cfg(target_arch = "x86_64")]
    let available = simd::available();
    #[cfg(not(target_arch = "x86_64"))]
    let available = false;
    available
}

/// The one-pass scanner alone: the answer on every platform, and the exact error everywhere.
pub fn scalar_scan<'t>(text: &'t str, reserved: &str) -> Result<Scanned<'t>, JsonError> {
    let scanner = Scanner {
        b: text.as_bytes(),
        text,
        error_at: Cell::new(0),
    };
    scanner.document(reserved).map_err(|kind| {
        let offset = scanner.error_at.get();
        let kind = if offset >= text.len() && kind != ErrorKind::TrailingCharacters {
            ErrorKind::Eof
        } else {
            kind
        };
        JsonError { kind, offset }
    })
}

/// The string token that opens at `start` (its quote), unescaped, and the index just past its
/// closing quote. `None` for anything `serde_json` refuses to read as a `String`: a control
/// character, an unknown escape, bad hex, a lone surrogate, or no closing quote.
///
/// Why not serde_json: it decodes a string escape by escape at about 13 ns each, and the body
/// of a function URL event is a JSON string with an escape for every quote of the payload.
/// Here the quotes, backslashes and control characters of 64 bytes are found at once, so the
/// work for one escape does not wait on the search that follows the one before it.
pub fn unescape_string(text: &str, start: usize) -> Option<(String, usize)> {
    let b = text.as_bytes();
    if b.get(start) != Some(&b'"') {
        return None;
    }
    // The text is never longer than its escaped form; the slack lets a short run be copied
    // sixteen bytes at a time.
    let mut out = vec![0u8; b.len() - start + 16];
    // The next byte to copy and where it goes.
    let (mut i, mut o) = (start + 1, 0);
    let mut block = start + 1;
    loop {
        let mut specials = match b.get(block..).and_then(<[u8]>::first_chunk::<64>) {
            Some(chunk) => specials_mask(chunk),
            None => {
                // The last bytes, and the end of the text as a special: reaching it means the
                // string is not closed.
                let rest = b.get(block..)?;
                rest.iter()
                    .enumerate()
                    .filter(|&(_, &c)| c == b'"' || c == b'\\' || c < 0x20)
                    .fold(1 << rest.len(), |mask, (k, _)| mask | 1 << k)
            }
        };
        // Specials before `i` belong to the escape read last (an escaped quote or backslash, a
        // surrogate pair's second half): cleared, not tested one by one, as that branch goes
        // either way at random.
        let past = |i: usize| {
            u64::MAX
                .checked_shl((i.saturating_sub(block)) as u32)
                .unwrap_or(0)
        };
        specials &= past(i);
        while specials != 0 {
            let at = block + specials.trailing_zeros() as usize;
            let run = b.get(i..at)?;
            match b.get(i..i + 16) {
                Some(sixteen) if run.len() <= 16 => {
                    out.get_mut(o..o + 16)?.copy_from_slice(sixteen)
                }
                _ => out.get_mut(o..o + run.len())?.copy_from_slice(run),
            }
            o += run.len();
            match b.get(at) {
                Some(b'"') => {
                    out.truncate(o);
                    // Runs were cut at ASCII bytes and escapes written as whole chars: UTF-8.
                    return Some((String::from_utf8(out).ok()?, at + 1));
                }
                Some(b'\\') => {
                    // A one-byte escape by table, so the common case takes no jump that
                    // depends on which escape it is.
                    match b.get(at + 1).map(|&e| ONE_BYTE_ESCAPE[usize::from(e)]) {
                        Some(byte @ 1..) => {
                            *out.get_mut(o)? = byte;
                            o += 1;
                            i = at + 2;
                        }
                        _ if b.get(at + 1) == Some(&b'u') => {
                            let (c, next) = unicode_escape(b, at + 2)?;
                            o += c.encode_utf8(out.get_mut(o..o + 4)?).len();
                            i = next;
                        }
                        _ => return None,
                    }
                    specials &= past(i);
                }
                // A control character, or the end of the text.
                _ => return None,
            }
        }
        block += 64;
    }
}

/// What each one-byte escape stands for (`\n` is a line feed), 0 for every other byte. This is
/// the one list of one-byte escapes: both scanners check escapes against it.
static ONE_BYTE_ESCAPE: [u8; 256] = {
    let mut table = [0; 256];
    table[b'"' as usize] = b'"';
    table[b'\\' as usize] = b'\\';
    table[b'/' as usize] = b'/';
    table[b'b' as usize] = 0x08;
    table[b'f' as usize] = 0x0c;
    table[b'n' as usize] = b'\n';
    table[b'r' as usize] = b'\r';
    table[b't' as usize] = b'\t';
    table
};

/// Bit `k` set for each byte `k` of `chunk` that is `"`, `\` or below 0x20: eight bytes at a
/// time, exact for every byte (unlike [`string_specials`], exact only for the first).
fn specials_mask(chunk: &[u8; 64]) -> u64 {
    let (words, _) = chunk.as_chunks::<8>();
    words.iter().enumerate().fold(0, |mask, (k, word)| {
        let w = u64::from_le_bytes(*word);
        let control = !((w & !HIGHS) + ONES * 0x60) & !w & HIGHS;
        let hits = exact_zero_bytes(w ^ (ONES * b'"' as u64))
            | exact_zero_bytes(w ^ (ONES * b'\\' as u64))
            | control;
        // Gather the eight high bits into one byte: bit 8j + 7 lands on bit 56 + j.
        let byte = (hits >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56;
        mask | byte << (8 * k)
    })
}

/// The character a `\u` escape stands for (`i` is just past the `u`), and the index after
/// it. A UTF-16 surrogate pair, `\uD83D\uDE00`, is one escape here.
fn unicode_escape(b: &[u8], i: usize) -> Option<(char, usize)> {
    let unit = hex4(b, i)?;
    if !(0xD800..0xDC00).contains(&unit) {
        // A low surrogate alone has no char: `from_u32` refuses it.
        return Some((char::from_u32(unit)?, i + 4));
    }
    if b.get(i + 4..i + 6)? != b"\\u" {
        return None;
    }
    let low = hex4(b, i + 6)?;
    if !(0xDC00..0xE000).contains(&low) {
        return None;
    }
    let scalar = 0x1_0000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
    Some((char::from_u32(scalar)?, i + 10))
}

/// The four hex digits at `i` as a number.
fn hex4(b: &[u8], i: usize) -> Option<u32> {
    b.get(i..i + 4)?
        .iter()
        .try_fold(0u32, |n, &d| Some(n << 4 | char::from(d).to_digit(16)?))
}

/// The top-level member `name` of the object `text`, when its value is a string: that string
/// token's byte range (quotes included) and its text, unescaped. `None` when `text` is not an
/// object that the scalar scanner reads up to its closing brace, when `name` is missing, not a
/// string or there more than once, or when any top-level key holds an escape (it might spell
/// `name`). What follows the closing brace is not looked at.
///
/// For the runtime: it takes a function URL event's body out of the text, so that serde_json
/// reads only the small envelope (see `request::parse_invocation`).
pub fn string_member(text: &str, name: &str) -> Option<(std::ops::Range<usize>, String)> {
    let scanner = Scanner {
        b: text.as_bytes(),
        text,
        error_at: Cell::new(0),
    };
    let start = scanner.ws(0);
    if scanner.at(start) != b'{' {
        return None;
    }
    let mut found = None;
    let mut i = scanner.open(start, 1, b'}').ok()?;
    while i & CLOSED == 0 {
        let key_end = scanner.key_token(i).ok()?;
        let key = text.get(i + 1..key_end - 1)?;
        if key.contains('\\') {
            return None;
        }
        let value_start = scanner.colon(key_end).ok()?;
        i = if key == name {
            if found.is_some() {
                return None;
            }
            let (value, end) = unescape_string(text, value_start)?;
            found = Some((value_start..end, value));
            end
        } else {
            scanner.inner_value(value_start, 1).ok()?
        };
        i = scanner.next_or_close(i, b'}').ok()?;
    }
    found
}

/// Which top-level member the value being read belongs to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Wanted {
    None,
    Type,
    Id,
}

/// Recursive descent over the bytes. Each step takes the index it starts at and returns the
/// index after what it read, so the position stays in a register; bytes are read through
/// [`Scanner::at`], which gives 0 past the end: 0 is valid nowhere in JSON, so running out of
/// input needs no branch of its own. Recursion is bounded by [`MAX_DEPTH`].
struct Scanner<'t> {
    b: &'t [u8],
    text: &'t str,
    /// Where the error is, set only when a step fails.
    error_at: Cell<usize>,
}

type Step = Result<usize, ErrorKind>;

/// Marks an index as "past a closing bracket" (see [`Scanner::next_or_close`]). No text that
/// fits in memory reaches this bit.
const CLOSED: usize = 1 << (usize::BITS - 1);

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// High bit set in each byte of `w` that is zero; exact for the lowest such byte.
#[inline(always)]
fn zero_bytes(w: u64) -> u64 {
    w.wrapping_sub(ONES) & !w & HIGHS
}

/// High bit set in each byte of `w` that is zero, exact for every byte: `(w & 0x7f) + 0x7f`
/// reaches the high bit for every other byte, and no sum carries into the next byte. Two
/// operations more than [`zero_bytes`], for callers that need every byte.
#[inline(always)]
fn exact_zero_bytes(w: u64) -> u64 {
    !(((w & !HIGHS) + !HIGHS) | w) & HIGHS
}

/// High bit set in each byte of `w` that is `"`, `\` or below 0x20; exact for the lowest one.
#[inline(always)]
fn string_specials(w: u64) -> u64 {
    zero_bytes(w ^ (ONES * b'"' as u64))
        | zero_bytes(w ^ (ONES * b'\\' as u64))
        | (w.wrapping_sub(ONES * 0x20) & !w & HIGHS)
}

/// The index of the first `"`, `\\` or control character at or after `i` (or the end).
#[inline(always)]
fn plain_run_end(b: &[u8], mut i: usize) -> usize {
    while let Some(chunk) = b.get(i..).and_then(<[u8]>::first_chunk::<8>) {
        let hits = string_specials(u64::from_le_bytes(*chunk));
        if hits != 0 {
            return i + (hits.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    i
}

impl<'t> Scanner<'t> {
    #[cold]
    fn fail(&self, kind: ErrorKind, at: usize) -> ErrorKind {
        self.error_at.set(at);
        kind
    }

    #[inline(always)]
    fn at(&self, i: usize) -> u8 {
        self.b.get(i).copied().unwrap_or(0)
    }

    /// Providers send compact JSON, so the first test (a byte above space) nearly always ends it.
    #[inline(always)]
    fn ws(&self, mut i: usize) -> usize {
        if self.at(i) > b' ' {
            return i;
        }
        while let b' ' | b'\n' | b'\t' | b'\r' = self.at(i) {
            i += 1;
        }
        i
    }

    /// At an opening quote: the index after the closing one.
    #[inline(always)]
    fn string(&self, i: usize) -> Step {
        let b = self.b;
        let mut i = i + 1;
        loop {
            i = plain_run_end(b, i);
            match self.at(i) {
                b'"' => return Ok(i + 1),
                b'\\' => i = self.escape(i + 1)?,
                c if c < 0x20 => return Err(self.fail(ErrorKind::ControlCharacter, i)),
                _ => i += 1,
            }
        }
    }

    /// Just past a backslash. `\u` escapes are not checked for surrogate pairing: `serde_json`
    /// does not check them when skipping, and EventBridge receives the escape as written.
    #[inline(always)]
    fn escape(&self, i: usize) -> Step {
        match self.at(i) {
            c if ONE_BYTE_ESCAPE[usize::from(c)] != 0 => Ok(i + 1),
            b'u' => match self.b.get(i + 1..i + 5) {
                Some(hex) if hex.iter().all(u8::is_ascii_hexdigit) => Ok(i + 5),
                _ => {
                    let bad = (i + 1..i + 5)
                        .find(|&j| !self.at(j).is_ascii_hexdigit())
                        .unwrap_or(i + 1);
                    Err(self.fail(ErrorKind::InvalidEscape, bad))
                }
            },
            _ => Err(self.fail(ErrorKind::InvalidEscape, i)),
        }
    }

    #[inline(always)]
    fn digits(&self, mut i: usize) -> usize {
        while self.at(i).is_ascii_digit() {
            i += 1;
        }
        i
    }

    /// At `-` or a digit: the index after the number.
    #[inline(always)]
    fn number(&self, mut i: usize) -> Step {
        if self.at(i) == b'-' {
            i += 1;
        }
        match self.at(i) {
            b'0' => {
                i += 1;
                // One leading zero only.
                if self.at(i).is_ascii_digit() {
                    return Err(self.fail(ErrorKind::InvalidNumber, i));
                }
            }
            b'1'..=b'9' => i = self.digits(i + 1),
            _ => return Err(self.fail(ErrorKind::InvalidNumber, i)),
        }
        if let b'.' | b'e' | b'E' = self.at(i) {
            return self.fraction_and_exponent(i);
        }
        Ok(i)
    }

    fn fraction_and_exponent(&self, mut i: usize) -> Step {
        if self.at(i) == b'.' {
            let start = i + 1;
            i = self.digits(start);
            if i == start {
                return Err(self.fail(ErrorKind::InvalidNumber, i));
            }
        }
        if let b'e' | b'E' = self.at(i) {
            i += 1;
            if let b'+' | b'-' = self.at(i) {
                i += 1;
            }
            let start = i;
            i = self.digits(start);
            if i == start {
                return Err(self.fail(ErrorKind::InvalidNumber, i));
            }
        }
        Ok(i)
    }

    fn literal(&self, i: usize, word: &[u8]) -> Step {
        let end = i + word.len();
        if self.b.get(i..end) == Some(word) {
            return Ok(end);
        }
        let bad = (i..end).find(|&j| self.at(j) != word[j - i]).unwrap_or(i);
        Err(self.fail(ErrorKind::InvalidLiteral, bad))
    }

    /// Any value, at its first byte (whitespace skipped). `depth` counts the containers it is
    /// in.
    fn value(&self, i: usize, depth: u32) -> Step {
        match self.at(i) {
            b'"' => self.string(i),
            b'{' => self.object(i, depth + 1),
            b'[' => self.array(i, depth + 1),
            b'-' | b'0'..=b'9' => self.number(i),
            b't' => self.literal(i, b"true"),
            b'f' => self.literal(i, b"false"),
            b'n' => self.literal(i, b"null"),
            _ => Err(self.fail(ErrorKind::ExpectedValue, i)),
        }
    }

    /// A member's or element's value. Strings and numbers, nearly every value in a payload, are
    /// read here, inline; only containers and literals cost a (recursive) call.
    #[inline(always)]
    fn inner_value(&self, i: usize, depth: u32) -> Step {
        match self.at(i) {
            b'"' => self.string(i),
            b'-' | b'0'..=b'9' => self.number(i),
            _ => self.value(i, depth),
        }
    }

    /// After a member or element: the index of the next one after a `,`, or, with the high
    /// bit of the result set, the index just past the closing bracket. (Packing both into one
    /// word keeps the hot loop's result in a register.)
    #[inline(always)]
    fn next_or_close(&self, i: usize, close: u8) -> Step {
        let i = self.ws(i);
        match self.at(i) {
            b',' => Ok(self.ws(i + 1)),
            c if c == close => Ok((i + 1) | CLOSED),
            _ => Err(self.fail(ErrorKind::ExpectedCommaOrEnd, i)),
        }
    }

    /// At `{` or `[`: the index of the first member or element, or, with [`CLOSED`] set, the
    /// index just past the closing bracket of an empty container.
    #[inline(always)]
    fn open(&self, i: usize, depth: u32, close: u8) -> Step {
        if depth > MAX_DEPTH {
            return Err(self.fail(ErrorKind::TooDeep, i));
        }
        let i = self.ws(i + 1);
        if self.at(i) == close {
            return Ok((i + 1) | CLOSED);
        }
        Ok(i)
    }

    /// At a key: the index after the key, `:` and whitespace.
    #[inline(always)]
    fn key(&self, i: usize) -> Step {
        let end = self.key_token(i)?;
        self.colon(end)
    }

    /// At a key: the index after its closing quote.
    #[inline(always)]
    fn key_token(&self, i: usize) -> Step {
        if self.at(i) != b'"' {
            return Err(self.fail(ErrorKind::ExpectedKey, i));
        }
        self.string(i)
    }

    /// After a key: the index after `:` and whitespace.
    #[inline(always)]
    fn colon(&self, mut i: usize) -> Step {
        if self.at(i) != b':' {
            i = self.ws(i);
            if self.at(i) != b':' {
                return Err(self.fail(ErrorKind::ExpectedColon, i));
            }
        }
        Ok(self.ws(i + 1))
    }

    fn object(&self, i: usize, depth: u32) -> Step {
        let mut i = self.open(i, depth, b'}')?;
        while i & CLOSED == 0 {
            i = self.key(i)?;
            i = self.inner_value(i, depth)?;
            i = self.next_or_close(i, b'}')?;
        }
        Ok(i & !CLOSED)
    }

    fn array(&self, i: usize, depth: u32) -> Step {
        let mut i = self.open(i, depth, b']')?;
        while i & CLOSED == 0 {
            i = self.inner_value(i, depth)?;
            i = self.next_or_close(i, b']')?;
        }
        Ok(i & !CLOSED)
    }

    /// The text of the string token `start..end` (quotes included), unescaped. `None` if an
    /// escape names a lone surrogate, which has no `str` form.
    fn unescaped(&self, start: usize, end: usize) -> Option<Cow<'t, str>> {
        let inner = self.text.get(start + 1..end - 1)?;
        if !inner.contains('\\') {
            return Some(Cow::Borrowed(inner));
        }
        // Only the token's own text, so the reader's buffer is the token's size.
        let (text, _) = unescape_string(self.text.get(..end)?, start)?;
        Some(Cow::Owned(text))
    }

    /// The top-level object, reading the members the handler wants. The last occurrence of a
    /// duplicated key wins, as it does in `serde_json::Value`.
    fn top_object(&self, i: usize, reserved: &str) -> Result<(usize, TopLevel<'t>), ErrorKind> {
        let mut top = TopLevel::default();
        let mut i = self.open(i, 1, b'}')?;
        while i & CLOSED == 0 {
            let key_start = i;
            let key_end = self.key_token(i)?;
            let value_start = self.colon(key_end)?;
            let wanted = top.member(self.unescaped(key_start, key_end).as_deref(), reserved);
            i = self.inner_value(value_start, 1)?;
            top.keep(wanted, || match self.at(value_start) {
                b'"' => self.unescaped(value_start, i),
                _ => None,
            });
            i = self.next_or_close(i, b'}')?;
        }
        Ok((i & !CLOSED, top))
    }

    fn document(&self, reserved: &str) -> Result<Scanned<'t>, ErrorKind> {
        let i = self.ws(0);
        let (end, scanned) = if self.at(i) == b'{' {
            let (end, top) = self.top_object(i, reserved)?;
            (end, Scanned::Object(top))
        } else {
            (self.value(i, 0)?, Scanned::Other)
        };
        let end = self.ws(end);
        if end != self.b.len() {
            return Err(self.fail(ErrorKind::TrailingCharacters, end));
        }
        Ok(scanned)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::de::IgnoredAny;

    fn accepts(text: &str) -> bool {
        scan(text, "ebhook").is_ok()
    }

    fn serde_accepts(text: &str) -> bool {
        serde_json::from_str::<IgnoredAny>(text).is_ok()
    }

    fn object(text: &str) -> TopLevel<'_> {
        match scan(text, "ebhook") {
            Ok(Scanned::Object(top)) => top,
            other => panic!("{text:?}: {other:?}"),
        }
    }

    #[test]
    fn agrees_with_serde_json_on_edge_cases() {
        let cases = [
            "",
            " ",
            "{",
            "}",
            "[",
            "]",
            "{}",
            "[]",
            " {} ",
            "\t[ ]\r\n",
            "{} x",
            "{}{}",
            "[],",
            "null",
            "nul",
            "nulll",
            "true",
            "tru",
            "false",
            "falsy",
            "0",
            "-0",
            "00",
            "-",
            "-a",
            "01",
            "1.",
            "1.0",
            "1.e5",
            "1e",
            "1e+",
            "1e-5",
            "1E+05",
            "-1.5e300",
            "1e999",
            ".5",
            "+1",
            "0x10",
            "1 2",
            "\"\"",
            "\"",
            "\"abc",
            "\"a\\\"b\"",
            "\"\\u00e9\"",
            "\"\\u00g9\"",
            "\"\\u12\"",
            "\"\\ud800\"",
            "\"\\x\"",
            "\"\\/\"",
            "\"tab\there\"",
            "\"nl\nhere\"",
            "\"\u{7f}\"",
            "\"é ü 日本\"",
            "{\"a\":1}",
            "{\"a\" 1}",
            "{\"a\":}",
            "{\"a\":1,}",
            "{,\"a\":1}",
            "{\"a\":1 \"b\":2}",
            "{1:2}",
            "{\"a\":1]",
            "[1}",
            "[1,]",
            "[,1]",
            "[1 2]",
            "[[]]",
            "[[],[[]],{}]",
            "{\"a\":{\"b\":[1,{\"c\":null}]}}",
            "[\"a\",\"b\"]",
            "\"01234567\"",
            "\"0123456\\\"89\"",
            "\"0123456789abcdef\\\\\"",
            "{\"\":\"\"}",
            "[1.5,-2,3e3,true,false,null,\"x\"]",
            "\u{feff}{}",
            "{\"a\":1}\u{0}",
        ];
        for case in cases {
            assert_eq!(accepts(case), serde_accepts(case), "{case:?}");
        }
    }

    #[test]
    fn nesting_is_limited() {
        for depth in [1, 99, 100, 101, 10_000] {
            for (open, close) in [("[", "]"), ("{\"a\":", "}")] {
                let text = format!("{}1{}", open.repeat(depth), close.repeat(depth));
                assert!(serde_accepts(&text));
                assert_eq!(
                    accepts(&text),
                    depth as u32 <= MAX_DEPTH,
                    "{open} x {depth}"
                );
            }
        }
        let deep = "[".repeat(10_000);
        assert_eq!(
            scan(&deep, "ebhook").unwrap_err().kind,
            ErrorKind::TooDeep,
            "refused at the limit, before reading on"
        );
    }

    #[test]
    fn reads_top_level_type_id_and_reserved_key() {
        let top = object(
            r#"{"id":"e1","type":"zen:event-type:ticket.created","n":{"type":"inner","ebhook":1}}"#,
        );
        assert_eq!(
            top.event_type.as_deref(),
            Some("zen:event-type:ticket.created")
        );
        assert_eq!(top.id.as_deref(), Some("e1"));
        assert!(!top.has_reserved, "only the top level counts");

        let top = object(r#" { "typ\u0065" : "a\"b\u00e9" , "ebhook" : {} } "#);
        assert_eq!(top.event_type.as_deref(), Some("a\"bé"));
        assert!(top.has_reserved);
        assert!(object(r#"{"ebhoo\u006b":1}"#).has_reserved);

        // Non-string values name nothing; the last duplicate wins, as in serde_json::Value.
        assert_eq!(object(r#"{"type":1,"id":["x"]}"#), TopLevel::default());
        assert_eq!(object(r#"{"type":"a","type":null}"#).event_type, None);
        assert_eq!(
            object(r#"{"type":null,"type":"b"}"#).event_type.as_deref(),
            Some("b")
        );
        // A lone surrogate cannot be a str: valid JSON, but no event type.
        assert_eq!(object(r#"{"type":"\ud800"}"#).event_type, None);

        assert_eq!(scan("[1]", "ebhook"), Ok(Scanned::Other));
        assert_eq!(scan(" \"s\" ", "ebhook"), Ok(Scanned::Other));
    }

    #[test]
    fn errors_say_what_and_where() {
        let e = scan(r#"{"a":1,}"#, "ebhook").unwrap_err();
        assert_eq!((e.kind, e.offset), (ErrorKind::ExpectedKey, 7));
        assert_eq!(e.to_string(), "expected a string key at byte 7");
        let e = scan(r#"{"a":"x"#, "ebhook").unwrap_err();
        assert_eq!(e.kind, ErrorKind::Eof);
        let e = scan("{\"a\":\"\u{1}\"}", "ebhook").unwrap_err();
        assert_eq!((e.kind, e.offset), (ErrorKind::ControlCharacter, 6));
        let e = scan("{} {}", "ebhook").unwrap_err();
        assert_eq!((e.kind, e.offset), (ErrorKind::TrailingCharacters, 3));
    }

    /// A random valid JSON value: nested containers, escapes, non-ASCII, numbers, literals,
    /// random whitespace, and the keys the scanner looks for.
    fn value(rng: &mut fastrand::Rng, depth: u32, out: &mut String) {
        const STRINGS: &[&str] = &[
            "\"\"",
            "\"type\"",
            "\"id\"",
            "\"ebhook\"",
            "\"typ\\u0065\"",
            "\"a\\\"b\"",
            "\"\\ud83d\\ude00\"",
            "\"\\ud800\"",
            "\"é日\"",
            "\"0123456789abcdef\"",
            "\"\\n\\t\\/\\b\\f\\r\"",
            "\"x\"",
        ];
        const SCALARS: &[&str] = &[
            "0", "-0", "12", "-3.25", "1e5", "2E-3", "true", "false", "null",
        ];
        const SPACE: &[&str] = &["", "", "", " ", "\n", "\t", "\r\n  "];
        let ws = |rng: &mut fastrand::Rng, out: &mut String| {
            out.push_str(SPACE[rng.usize(..SPACE.len())])
        };
        ws(rng, out);
        match if depth > 5 {
            rng.u8(2..4)
        } else {
            rng.u8(0..4)
        } {
            0 => {
                out.push('{');
                for n in 0..rng.usize(0..5) {
                    if n > 0 {
                        out.push(',');
                    }
                    ws(rng, out);
                    out.push_str(STRINGS[rng.usize(..STRINGS.len())]);
                    ws(rng, out);
                    out.push(':');
                    value(rng, depth + 1, out);
                }
                ws(rng, out);
                out.push('}');
            }
            1 => {
                out.push('[');
                for n in 0..rng.usize(0..5) {
                    if n > 0 {
                        out.push(',');
                    }
                    value(rng, depth + 1, out);
                }
                ws(rng, out);
                out.push(']');
            }
            2 => out.push_str(STRINGS[rng.usize(..STRINGS.len())]),
            _ => out.push_str(SCALARS[rng.usize(..SCALARS.len())]),
        }
        ws(rng, out);
    }

    /// Up to two byte-level mutations (remove, replace, insert) of `text`; `None` when the
    /// result is not UTF-8.
    fn mutate(rng: &mut fastrand::Rng, text: String) -> Option<String> {
        const BYTES: &[u8] = b"{}[],:\"\\ 0-1.eE+tfnu\x01a";
        let mut bytes = text.into_bytes();
        for _ in 0..rng.usize(0..3) {
            let at = rng.usize(..=bytes.len());
            match rng.u8(0..3) {
                0 if at < bytes.len() => {
                    bytes.remove(at);
                }
                1 if at < bytes.len() => bytes[at] = BYTES[rng.usize(..BYTES.len())],
                _ => bytes.insert(at, BYTES[rng.usize(..BYTES.len())]),
            }
        }
        String::from_utf8(bytes).ok()
    }

    /// A string token of 0 to 150 characters: plain, escaped (quotes, backslashes, `\u`),
    /// non-ASCII, so that its end and its escapes fall anywhere in a 64-byte block.
    fn long_string(rng: &mut fastrand::Rng, out: &mut String) {
        const PIECES: &[&str] = &["a", "b", " ", "\\\"", "\\\\", "\\u00e9", "\\n", "é", "日"];
        out.push('"');
        for _ in 0..rng.usize(0..150) {
            out.push_str(PIECES[rng.usize(..PIECES.len())]);
        }
        out.push('"');
    }

    /// Holds the fast path to the scalar scanner on `text`: it answers exactly for the valid
    /// texts, with the scalar scanner's answer. Returns whether `text` is valid.
    fn paths_agree(text: &str) -> bool {
        let scalar = scalar_scan(text, "ebhook");
        match fast_scan(text, "ebhook") {
            Some(fast) => assert_eq!(Ok(fast), scalar, "{text:?}"),
            None => assert!(
                scalar.is_err(),
                "the fast path refused {text:?}: {scalar:?}"
            ),
        }
        scalar.is_ok()
    }

    /// The SIMD fast path answers exactly as the scalar scanner whenever it answers, and it
    /// answers for every valid text. The texts are shifted by up to 70 spaces and carry long
    /// strings, so tokens, escapes and strings cross the 64-byte blocks it classifies.
    #[test]
    fn fast_path_agrees_with_the_scalar_scanner() {
        if !fast_path_available() {
            eprintln!("no fast path on this CPU: nothing to compare");
            return;
        }
        let mut rng = fastrand::Rng::with_seed(0xb10c);
        let (mut valid, mut invalid) = (0, 0);
        for round in 0..100_000 {
            let mut text = " ".repeat(rng.usize(0..70));
            if round % 2 == 0 {
                text.push_str("{\"type\":");
                long_string(&mut rng, &mut text);
                text.push_str(",\"nested\":[");
                for n in 0..rng.usize(0..4) {
                    if n > 0 {
                        text.push(',');
                    }
                    long_string(&mut rng, &mut text);
                    text.push(',');
                    value(&mut rng, 2, &mut text);
                }
                text.push_str("],\"id\":");
                value(&mut rng, 1, &mut text);
                text.push('}');
            } else {
                value(&mut rng, 0, &mut text);
            }
            let Some(text) = mutate(&mut rng, text) else {
                continue;
            };
            if paths_agree(&text) {
                valid += 1;
            } else {
                invalid += 1;
            }
        }
        assert!(
            valid > 20_000 && invalid > 20_000,
            "{valid} valid, {invalid} invalid"
        );
    }

    /// Numbers: the fast path reads a short integer with one vector compare and leaves every
    /// other number to the byte-by-byte reader. Every length up to 20 digits, signed or not,
    /// with a leading zero or not, followed by every kind of byte that can come next, with and
    /// without 16 bytes of text after it, as an element, a member and the whole text.
    #[test]
    fn fast_path_agrees_on_numbers() {
        if !fast_path_available() {
            eprintln!("no fast path on this CPU: nothing to compare");
            return;
        }
        let mut rng = fastrand::Rng::with_seed(0x1d5);
        let nexts = [
            "", ",", "]", "}", " ", "\n", "\"", ":", ".", ".5", "e", "e3", "E+2", "x", "-", "+",
            "/", "\\", "\u{e9}",
        ];
        let (mut valid, mut invalid) = (0, 0);
        for len in 0..=20 {
            for sign in ["", "-"] {
                for first in ['0', '1', '9'] {
                    let mut number = String::from(sign);
                    if len > 0 {
                        number.push(first);
                        number.extend((1..len).map(|_| rng.digit(10)));
                    }
                    for next in nexts {
                        for pad in [0, 3, 16, 40] {
                            let pad = " ".repeat(pad);
                            for text in [
                                format!("[{number}{next}{pad}]"),
                                format!("[{number}{next},1]{pad}"),
                                format!("{{\"a\":{number}{next}{pad}}}"),
                                format!("{number}{next}{pad}"),
                            ] {
                                let ok = paths_agree(&text);
                                assert_eq!(ok, serde_accepts(&text), "{text:?}");
                                if ok {
                                    valid += 1;
                                } else {
                                    invalid += 1;
                                }
                            }
                        }
                    }
                }
            }
        }
        assert!(
            valid > 1_000 && invalid > 1_000,
            "{valid} valid, {invalid} invalid"
        );
    }

    /// Nesting at and around the limit, mixing objects and arrays, at the top and under a
    /// top-level member, with siblings before and after: the fast path walks containers in
    /// code of its own, so it must close each kind with its own bracket and count the depth
    /// exactly as the scalar scanner does.
    #[test]
    fn fast_path_agrees_on_nesting() {
        if !fast_path_available() {
            eprintln!("no fast path on this CPU: nothing to compare");
            return;
        }
        let opens = ["[", "{\"a\":", "[1,", "{\"a\":1,\"b\":"];
        let closes = ["]", "}", ",2]", ",\"c\":[]}"];
        for depth in [1, 2, 63, 64, 65, 98, 99, 100, 101, 127, 128, 129] {
            for pattern in 0..8usize {
                let (mut open, mut close) = (String::new(), Vec::new());
                for level in 0..depth {
                    let which = (level * (pattern + 1) + pattern / 2) % opens.len();
                    open.push_str(opens[which]);
                    close.push(closes[which]);
                }
                close.reverse();
                let inner = format!("{open}{{}}{}", close.concat());
                let under_member = format!("{{\"x\":[],\"y\":{inner},\"z\":0}}");
                for text in [&inner, &under_member] {
                    let valid = paths_agree(text);
                    let levels = if text == &inner { depth + 1 } else { depth + 2 };
                    assert_eq!(valid, levels as u32 <= MAX_DEPTH, "{text}");
                }
                // The wrong closer, and one closer too few, at every depth.
                for (from, to) in [('}', "]"), (']', "}")] {
                    if let Some(at) = inner.rfind(from) {
                        let swapped = format!("{}{to}{}", &inner[..at], &inner[at + 1..]);
                        assert!(!paths_agree(&swapped), "{swapped}");
                    }
                }
                assert!(!paths_agree(&inner[..inner.len() - 1]), "{inner}");
            }
        }
    }

    /// Runs of 0 to 9 backslashes, at every offset across three 64-byte blocks, before a
    /// quote, an escape letter, a bad escape or the end. The fast path works out which bytes a
    /// run escapes with arithmetic on the block's mask, carrying into the next block, so it
    /// must agree with the scalar scanner on each.
    #[test]
    fn backslash_runs_across_blocks() {
        if !fast_path_available() {
            eprintln!("no fast path on this CPU: nothing to compare");
            return;
        }
        let tails = [
            "\"", "n\"", "u00e9\"", "u00\"", "x\"", "\"\"", "", "/\"", "\\\\\"",
        ];
        let (mut valid, mut invalid) = (0, 0);
        for offset in 0..140 {
            for run in 0..10 {
                for tail in tails {
                    let text = format!("{}[\"{}{tail}]", " ".repeat(offset), "\\".repeat(run));
                    if paths_agree(&text) {
                        valid += 1;
                    } else {
                        invalid += 1;
                    }
                }
            }
        }
        assert!(
            valid > 2_000 && invalid > 2_000,
            "{valid} valid, {invalid} invalid"
        );
    }

    /// Every byte after a backslash, and every byte in each of the four places after `\u`,
    /// at every offset in a block and across into the next: the fast path checks escapes with
    /// its own tables (`ESCAPE`, `HEX` in `simd.rs`), so every entry of them must agree with
    /// the scalar scanner's checks.
    #[test]
    fn every_byte_after_a_backslash() {
        if !fast_path_available() {
            eprintln!("no fast path on this CPU: nothing to compare");
            return;
        }
        let (mut valid, mut invalid) = (0, 0);
        let mut count = |text: &str| {
            if paths_agree(text) {
                valid += 1;
            } else {
                invalid += 1;
            }
        };
        for offset in 54..72 {
            let pad = "x".repeat(offset);
            for byte in (0u8..=0x7f).map(char::from).chain(['\u{e9}', '\u{20ac}']) {
                count(&format!("[\"{pad}\\{byte}\"]"));
                for place in 0..4 {
                    let mut digits = ['0', 'a', 'F', '9'];
                    digits[place] = byte;
                    let digits: String = digits.iter().collect();
                    count(&format!("[\"{pad}\\u{digits}\"]"));
                }
            }
        }
        // Eight one-byte escapes (`"\\/bfnrt`) and 22 hex digits in each of the four places
        // pass, at each of the 18 offsets.
        assert_eq!(valid, 18 * (8 + 4 * 22), "{invalid} invalid");
    }

    /// Random valid texts, most of them then broken by a few byte-level mutations: the scanner
    /// and serde_json must agree on every one (the fuzz target `json` does this coverage-guided;
    /// this keeps a deterministic slice of it in the unit tests).
    #[test]
    fn differential_against_serde_json() {
        let mut rng = fastrand::Rng::with_seed(0x5eed);
        let (mut objects, mut rejected) = (0, 0);
        for round in 0..100_000 {
            let mut text = String::new();
            if round % 2 == 0 {
                text.push('{');
                text.push_str("\"k\":");
                value(&mut rng, 1, &mut text);
                text.push_str(",\"type\":");
                value(&mut rng, 1, &mut text);
                text.push('}');
            } else {
                value(&mut rng, 0, &mut text);
            }
            let Some(text) = mutate(&mut rng, text) else {
                continue;
            };
            let ours = scan(&text, "ebhook");
            assert_eq!(ours.is_ok(), serde_accepts(&text), "{text:?}: {ours:?}");
            rejected += usize::from(ours.is_err());
            if let Ok(Scanned::Object(top)) = ours {
                let value: serde_json::Value = match serde_json::from_str(&text) {
                    Ok(v) => v,
                    Err(_) => continue, // lone surrogates: serde_json::Value refuses them
                };
                let get = |k: &str| value.get(k).and_then(|v| v.as_str()).map(str::to_owned);
                assert_eq!(top.event_type.map(Cow::into_owned), get("type"), "{text:?}");
                assert_eq!(top.id.map(Cow::into_owned), get("id"), "{text:?}");
                assert_eq!(top.has_reserved, value.get("ebhook").is_some(), "{text:?}");
                objects += 1;
            }
        }
        assert!(
            objects > 10_000 && rejected > 10_000,
            "{objects} objects, {rejected} rejected"
        );
    }

    /// `unescape_string` must read a string token exactly as serde_json reads it into a
    /// `String`, and refuse exactly what serde_json refuses.
    fn unescape_agrees(text: &str) -> bool {
        let serde = serde_json::from_str::<String>(text);
        let start = text.len() - text.trim_start_matches([' ', '\n', '\t', '\r']).len();
        match unescape_string(text, start) {
            Some((ours, end)) => {
                // What follows the closing quote is no part of the string.
                assert_eq!(
                    serde_json::from_str::<String>(&text[..end]).ok().as_ref(),
                    Some(&ours),
                    "{text:?}"
                );
                if text[end..].trim_matches([' ', '\n', '\t', '\r']).is_empty() {
                    assert_eq!(serde.ok(), Some(ours), "{text:?}");
                }
                true
            }
            None => {
                assert!(serde.is_err(), "refused {text:?}, which serde_json reads");
                false
            }
        }
    }

    #[test]
    fn unescape_string_reads_what_serde_json_reads() {
        let accepted = [
            r#""""#,
            r#""plain""#,
            r#""a\"b\\c\/d\be\ff\ng\rh\ti""#,
            r#""\u00e9\u00E9\u20ac\u0000\u001f""#,
            r#""\ud83d\ude00 and \uD83D\uDE00""#,
            "\"é日本\u{10ffff}\"",
            r#""0123456789abcdef\"0123456\"""#,
            r#""x" trailing"#,
        ];
        for text in accepted {
            assert!(unescape_agrees(text), "{text:?}");
        }
        let refused = [
            "",
            "x",
            r#""unclosed"#,
            r#""ends in a backslash\"#,
            "\"tab\tinside\"",
            "\"nul\u{0}\"",
            r#""\x""#,
            r#""\u12g4""#,
            r#""\u123""#,
            r#""\ud800""#,
            r#""\ud800x""#,
            r#""\ud800\n""#,
            r#""\ud800\u0041""#,
            r#""\udc00""#,
            r#""\ude00\ud83d""#,
        ];
        for text in refused {
            assert!(!unescape_agrees(text), "{text:?}");
        }
    }

    /// Every escape, a control character or a lone surrogate at each offset from 0 to 16 and
    /// around the first two 64-byte block boundaries, followed by runs of several lengths.
    #[test]
    fn unescape_string_at_every_offset() {
        let pieces = [
            r#"\""#,
            r"\\",
            r"\/",
            r"\b",
            r"\f",
            r"\n",
            r"\r",
            r"\t",
            r"\u00e9",
            r"\ud83d\ude00",
            "é",
            "\u{1}",
            "\u{1f}",
            "\u{7f}",
            r"\ud800",
            r"\q",
        ];
        let mut rng = fastrand::Rng::with_seed(7);
        let (mut read, mut refused) = (0, 0);
        let offsets = (0..17).chain(50..72).chain(114..136);
        for before in offsets {
            for piece in pieces {
                for after in [0, 1, 7, 8, 9] {
                    let text = format!(
                        "\"{}{piece}{}{}\"",
                        "a".repeat(before),
                        "b".repeat(after),
                        pieces[rng.usize(..8)]
                    );
                    if unescape_agrees(&text) {
                        read += 1;
                    } else {
                        refused += 1;
                    }
                }
            }
        }
        // Four of the sixteen pieces are refused wherever they stand: the two control
        // characters, the lone surrogate and `\q` (DEL, 0x7f, is no control character to JSON).
        assert_eq!((read, refused), (61 * 12 * 5, 61 * 4 * 5));
    }

    /// Runs of backslashes of every length up to nine, ending with or without an escaped quote,
    /// placed so that they cross the first 64-byte block boundary at every point.
    #[test]
    fn unescape_string_backslash_runs_across_blocks() {
        let mut read = 0;
        for before in 50..72 {
            for run in 0..10 {
                for tail in ["", "\"", "x", "\\u00e9", "\\ud83d\\ude00"] {
                    let text = format!("\"{}{}{tail}z\"", "a".repeat(before), "\\".repeat(run));
                    read += usize::from(unescape_agrees(&text));
                }
            }
        }
        // Even runs are whole escapes, so every tail reads. An odd run's last backslash escapes
        // the tail's first byte: valid for `"` and for the tail's own backslash, which leaves
        // `u00e9` plain text, but not for `z`, `x`, or before a pair's now lone second half.
        assert_eq!(read, 22 * (5 * 5 + 5 * 2));
    }

    /// Random valid strings from the differential test's generator, and mutations of them.
    #[test]
    fn unescape_string_differential() {
        let mut rng = fastrand::Rng::with_seed(0xe5c);
        let (mut read, mut refused) = (0, 0);
        for _ in 0..50_000 {
            let mut text = String::from("\"");
            if rng.bool() {
                // 0 to 150 pieces, so that escapes and the end fall anywhere in a block.
                let mut long = String::new();
                long_string(&mut rng, &mut long);
                text.push_str(&long[1..long.len() - 1]);
            }
            for _ in 0..rng.usize(0..6) {
                let mut element = String::new();
                value(&mut rng, 6, &mut element);
                // Strings only: take each string token's inside.
                if let Some(inner) = element
                    .trim()
                    .strip_prefix('"')
                    .and_then(|e| e.strip_suffix('"'))
                {
                    text.push_str(inner);
                } else {
                    text.push_str(element.trim());
                }
            }
            text.push('"');
            let Some(text) = mutate(&mut rng, text) else {
                continue;
            };
            if unescape_agrees(&text) {
                read += 1;
            } else {
                refused += 1;
            }
        }
        assert!(
            read > 10_000 && refused > 5_000,
            "{read} read, {refused} refused"
        );
    }

    #[test]
    fn string_member_takes_one_top_level_string() {
        let text = r#" {"a":{"body":"inner"},"body" : "x\"y" ,"b":[1,"body"]} trailing"#;
        let (span, body) = string_member(text, "body").unwrap();
        assert_eq!(&text[span], r#""x\"y""#);
        assert_eq!(body, "x\"y");
        let missing_or_ambiguous = [
            r#"{"a":"body"}"#,
            r#"{"body":null}"#,
            r#"{"body":1}"#,
            r#"{"body":"a","body":"b"}"#,
            r#"{"bod\u0079":"a"}"#,
            r#"{"body":"a","k\n":1}"#,
            r#"["body","a"]"#,
            r#"{"body":"a""#,
            r#"{"body":"a" "c":1}"#,
            r#"{"body":"\ud800"}"#,
            "",
        ];
        for text in missing_or_ambiguous {
            assert_eq!(string_member(text, "body"), None, "{text:?}");
        }
    }
}
