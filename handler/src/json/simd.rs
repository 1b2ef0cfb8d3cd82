//! The fast path of [`super::scan`] on x86_64: classify 64 bytes at a time with SSE2 and list
//! where every token starts, then check the grammar over that list.
//!
//! Why: the scalar scanner is bound by one chain of dependent steps (each token's end is the
//! next token's start), about 7 cycles a token on dense payloads. Here stage 1 finds, for a
//! whole block at once and with no chain between blocks but three carried bits, every quote,
//! backslash, control character, bracket, colon and comma, and which bytes are inside strings,
//! and writes down the position of each structural character, string start and number or
//! literal start. Stage 2 is the scalar scanner's recursive descent run over that list: the
//! next token's position is a load from the list, not the end of the previous token, so the
//! chain is gone, and every branch is a direct one the predictor learns from the payload's
//! shape. String contents are never walked byte by byte.
//!
//! It only ever answers for valid texts. On anything it does not accept (invalid JSON, nesting
//! over [`MAX_DEPTH`]) it returns `None` and the scalar scanner, which reports the exact error,
//! runs instead; so a mistake here can cost speed but must never let an invalid text through.
//! The unit tests hold it to the scalar scanner on every generated text.

use std::arch::x86_64::{
    __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_min_epu8, _mm_movemask_epi8, _mm_or_si128,
    _mm_set1_epi8,
};
use std::cell::Cell;

use super::{MAX_DEPTH, Scanned, Scanner, TopLevel, Wanted};

/// Longer texts go to the scalar scanner, which needs no memory: the token list costs four
/// bytes a token, and a body this large is over the PutEvents limit anyway.
const MAX_LEN: usize = 1 << 20;

const BLOCK: usize = 64;

/// One block's bytes of each class, bit `i` for byte `i`.
struct Classes {
    quote: u64,
    backslash: u64,
    /// Bytes below 0x20 (never allowed inside a string).
    control: u64,
    /// Space, tab, line feed, carriage return.
    space: u64,
    /// `{ } [ ] : ,`
    operator: u64,
}

#[inline]
#[target_feature(enable = "sse2")]
fn eq(v: __m128i, c: u8) -> __m128i {
    _mm_cmpeq_epi8(v, _mm_set1_epi8(c as i8))
}

#[inline]
#[target_feature(enable = "sse2")]
fn bits(v: __m128i) -> u64 {
    u64::from(_mm_movemask_epi8(v) as u16)
}

#[inline]
#[target_feature(enable = "sse2")]
fn classify(block: &[u8; BLOCK]) -> Classes {
    let mut c = Classes {
        quote: 0,
        backslash: 0,
        control: 0,
        space: 0,
        operator: 0,
    };
    for k in 0..BLOCK / 16 {
        // SAFETY: `block` is 64 bytes and `k * 16 + 16 <= 64`; the load needs no alignment.
        let v = unsafe { _mm_loadu_si128(block.as_ptr().add(k * 16).cast()) };
        let shift = k * 16;
        // Bit 5 set maps `[` onto `{` and `]` onto `}`, and no other byte onto either.
        let folded = _mm_or_si128(v, _mm_set1_epi8(0x20));
        let below_space = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1f)), v);
        // One mask extraction per class: the comparisons are combined first.
        let space = _mm_or_si128(
            _mm_or_si128(eq(v, b' '), eq(v, b'\t')),
            _mm_or_si128(eq(v, b'\n'), eq(v, b'\r')),
        );
        let operator = _mm_or_si128(
            _mm_or_si128(eq(folded, b'{'), eq(folded, b'}')),
            _mm_or_si128(eq(v, b':'), eq(v, b',')),
        );
        c.quote |= bits(eq(v, b'"')) << shift;
        c.backslash |= bits(eq(v, b'\\')) << shift;
        c.control |= bits(below_space) << shift;
        c.space |= bits(space) << shift;
        c.operator |= bits(operator) << shift;
    }
    c
}

/// Bit `i` set when an odd number of bits at or below `i` are set in `x`.
#[inline(always)]
fn prefix_xor(mut x: u64) -> u64 {
    for shift in [1, 2, 4, 8, 16, 32] {
        x ^= x << shift;
    }
    x
}

/// The bytes escaped by a backslash, each escape checked as JSON allows. `carry` says whether
/// the first byte of the block is escaped, and is set for the next block.
#[inline(always)]
fn escaped(backslash: u64, carry: &mut bool, text: &[u8], base: usize) -> Option<u64> {
    let mut escaped = u64::from(*carry);
    *carry = false;
    // A backslash that is itself escaped escapes nothing; take them in order.
    let mut todo = backslash & !escaped;
    while todo != 0 {
        let i = todo.trailing_zeros();
        let at = base + i as usize + 1;
        match text.get(at) {
            Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => {}
            Some(b'u') if text.get(at + 1..at + 5)?.iter().all(u8::is_ascii_hexdigit) => {}
            _ => return None,
        }
        if i == 63 {
            *carry = true;
            break;
        }
        escaped |= 1 << (i + 1);
        todo &= !(3 << i);
    }
    Some(escaped)
}

/// Stage 2: the grammar over the token list. Each step takes the index of a token in the list
/// and returns the index after what it read; `None` is any refusal.
struct Walk<'s, 't> {
    scanner: &'s Scanner<'t>,
    /// Token positions, then [`SENTINELS`] copies of the text's length, where [`Scanner::at`]
    /// reads 0, which is valid nowhere.
    tokens: &'s [u32],
}

const SENTINELS: usize = 4;

impl<'t> Walk<'_, 't> {
    /// The position of token `k` and its first byte.
    #[inline(always)]
    fn token(&self, k: usize) -> (usize, u8) {
        let pos = self
            .tokens
            .get(k)
            .map_or(self.scanner.b.len(), |&p| p as usize);
        (pos, self.scanner.at(pos))
    }

    /// A number or literal must end where a space, an operator or a quote begins (or at the
    /// end): only an atom's first byte is listed, so `12x` is caught here.
    #[inline(always)]
    fn atom_end(&self, end: usize) -> Option<()> {
        match self.scanner.at(end) {
            0 if end == self.scanner.b.len() => Some(()),
            b' ' | b'\t' | b'\n' | b'\r' | b',' | b':' | b'"' | b'{' | b'}' | b'[' | b']' => Some(()),
            _ => None,
        }
    }

    #[inline(always)]
    fn value(&self, k: usize, depth: u32) -> Option<usize> {
        let (pos, c) = self.token(k);
        match c {
            b'"' => Some(k + 1),
            b'-' | b'0'..=b'9' => {
                let end = self.scanner.number(pos).ok()?;
                self.atom_end(end)?;
                Some(k + 1)
            }
            _ => self.other_value(k, pos, c, depth),
        }
    }

    fn other_value(&self, k: usize, pos: usize, c: u8, depth: u32) -> Option<usize> {
        let word: &[u8] = match c {
            b'{' => return self.object(k, depth + 1),
            b'[' => return self.array(k, depth + 1),
            b't' => b"true",
            b'f' => b"false",
            b'n' => b"null",
            _ => return None,
        };
        let end = self.scanner.literal(pos, word).ok()?;
        self.atom_end(end)?;
        Some(k + 1)
    }

    /// At `{` or `[` (token `k`): the index of the first member or element, or `Err` with the
    /// index after the closing bracket of an empty container.
    #[inline(always)]
    fn open(&self, k: usize, depth: u32, close: u8) -> Option<Result<usize, usize>> {
        if depth > MAX_DEPTH {
            return None;
        }
        Some(if self.token(k + 1).1 == close {
            Err(k + 2)
        } else {
            Ok(k + 1)
        })
    }

    /// After a member or element: `Ok` with the next one's index after a `,`, or `Err` with
    /// the index after the closing bracket.
    #[inline(always)]
    fn next_or_close(&self, k: usize, close: u8) -> Option<Result<usize, usize>> {
        match self.token(k).1 {
            b',' => Some(Ok(k + 1)),
            c if c == close => Some(Err(k + 1)),
            _ => None,
        }
    }

    /// At a key: the index of its value (the key is a string, then `:`).
    #[inline(always)]
    fn key(&self, k: usize) -> Option<usize> {
        if self.token(k).1 != b'"' || self.token(k + 1).1 != b':' {
            return None;
        }
        Some(k + 2)
    }

    fn object(&self, k: usize, depth: u32) -> Option<usize> {
        let mut k = match self.open(k, depth, b'}')? {
            Ok(first) => first,
            Err(after) => return Some(after),
        };
        loop {
            k = self.value(self.key(k)?, depth)?;
            match self.next_or_close(k, b'}')? {
                Ok(next) => k = next,
                Err(after) => return Some(after),
            }
        }
    }

    fn array(&self, k: usize, depth: u32) -> Option<usize> {
        let mut k = match self.open(k, depth, b']')? {
            Ok(first) => first,
            Err(after) => return Some(after),
        };
        loop {
            k = self.value(k, depth)?;
            match self.next_or_close(k, b']')? {
                Ok(next) => k = next,
                Err(after) => return Some(after),
            }
        }
    }

    /// The text of the string token starting at `pos`, unescaped (`None` for a lone
    /// surrogate). Its end is found by the scalar scanner: only top-level keys and the values
    /// the handler wants are read this way.
    fn string_at(&self, pos: usize) -> Option<std::borrow::Cow<'t, str>> {
        let end = self.scanner.string(pos).ok()?;
        self.scanner.unescaped(pos, end)
    }

    /// The top-level object at token `k`, reading the members the handler wants; the last of
    /// a duplicated key wins, as in the scalar scanner.
    fn top_object(&self, k: usize, reserved: &str) -> Option<(usize, TopLevel<'t>)> {
        let mut top = TopLevel::default();
        let mut k = match self.open(k, 1, b'}')? {
            Ok(first) => first,
            Err(after) => return Some((after, top)),
        };
        loop {
            let value_at = self.key(k)?;
            let wanted = match self.string_at(self.token(k).0).as_deref() {
                Some("type") => Wanted::Type,
                Some("id") => Wanted::Id,
                Some(name) => {
                    top.has_reserved |= name == reserved;
                    Wanted::None
                }
                None => Wanted::None,
            };
            k = self.value(value_at, 1)?;
            if wanted != Wanted::None {
                let (pos, c) = self.token(value_at);
                let value = if c == b'"' { self.string_at(pos) } else { None };
                match wanted {
                    Wanted::Type => top.event_type = value,
                    Wanted::Id => top.id = value,
                    Wanted::None => {}
                }
            }
            match self.next_or_close(k, b'}')? {
                Ok(next) => k = next,
                Err(after) => return Some((after, top)),
            }
        }
    }

    fn document(&self, reserved: &str) -> Option<Scanned<'t>> {
        let (end, scanned) = if self.token(0).1 == b'{' {
            let (end, top) = self.top_object(0, reserved)?;
            (end, Scanned::Object(top))
        } else {
            (self.value(0, 0)?, Scanned::Other)
        };
        // Nothing may follow the value but the sentinels.
        (self.token(end).0 == self.scanner.b.len()).then_some(scanned)
    }
}

/// Appends `base` + the index of each bit set in `visit`. The positions are written eight at a
/// time whatever their number, into spare capacity, so the loop ends after one or two rounds
/// for most blocks instead of mispredicting its exit once per block (as simdjson does).
#[inline(always)]
fn write_positions(tokens: &mut Vec<u32>, base: usize, mut visit: u64) {
    let count = visit.count_ones() as usize;
    tokens.reserve(BLOCK);
    let len = tokens.len();
    let spare = &mut tokens.spare_capacity_mut()[..BLOCK];
    // Offsets fit: texts over MAX_LEN never get here.
    let base = base as u32;
    let mut written = 0;
    while written < count {
        for slot in &mut spare[written..written + 8] {
            slot.write(base + visit.trailing_zeros());
            visit &= visit.wrapping_sub(1);
        }
        written += 8;
    }
    // SAFETY: the first `count` slots past `len` were written just above (`count` <= 64 =
    // BLOCK, all within the capacity reserved), and u32 has no invalid bit patterns.
    unsafe { tokens.set_len(len + count) };
}

/// Stage 1: the position of every token start, in order, then [`SENTINELS`] copies of the
/// length. `None` when the text is certainly invalid (a control character in a string, a bad
/// escape, an unclosed string).
fn tokens(b: &[u8]) -> Option<Vec<u32>> {
    let mut tokens: Vec<u32> = Vec::with_capacity(b.len() / 2 + BLOCK + SENTINELS);
    // Carried from block to block: inside a string (all ones) or not, the first byte escaped,
    // the last byte part of a number or literal.
    let (mut inside_carry, mut escape_carry, mut atom_carry) = (0u64, false, 0u64);
    let mut padded = [b' '; BLOCK];
    for base in (0..b.len()).step_by(BLOCK) {
        let block: &[u8; BLOCK] = match b.get(base..base + BLOCK) {
            Some(full) => full.try_into().ok()?,
            None => {
                // The tail, padded with spaces, which change nothing.
                let tail = &b[base..];
                padded[..tail.len()].copy_from_slice(tail);
                &padded
            }
        };
        // SAFETY: SSE2 is part of the x86_64 baseline: every x86_64 CPU has it.
        let c = unsafe { classify(block) };
        let escaped = if c.backslash == 0 && !escape_carry {
            0
        } else {
            escaped(c.backslash, &mut escape_carry, b, base)?
        };
        let quote = c.quote & !escaped;
        let inside = prefix_xor(quote) ^ inside_carry;
        inside_carry = ((inside as i64) >> 63) as u64;
        if c.control & inside != 0 {
            return None;
        }
        let outside = !inside;
        // Everything outside strings that is not space, an operator or a quote belongs to a
        // number or literal (or is invalid, which stage 2 finds at its first byte).
        let atom = !(c.space | c.operator | quote) & outside;
        let atom_starts = atom & !((atom << 1) | atom_carry);
        atom_carry = atom >> 63;
        let visit = (c.operator & outside) | (quote & inside) | atom_starts;
        write_positions(&mut tokens, base, visit);
    }
    if inside_carry != 0 || escape_carry {
        return None;
    }
    tokens.extend([b.len() as u32; SENTINELS]);
    Some(tokens)
}

/// `Some` exactly when `text` is one valid JSON value within [`MAX_DEPTH`], with what
/// [`super::scan`] would read from it; `None` otherwise (the caller then runs the scalar
/// scanner for the answer and the error).
pub(super) fn scan<'t>(text: &'t str, reserved: &str) -> Option<Scanned<'t>> {
    let b = text.as_bytes();
    if b.len() > MAX_LEN {
        return None;
    }
    let tokens = tokens(b)?;
    let scanner = Scanner {
        b,
        text,
        error_at: Cell::new(0),
    };
    Walk {
        scanner: &scanner,
        tokens: &tokens,
    }
    .document(reserved)
}
