//! The fast path of [`super::scan`] on x86_64 CPUs with AVX2 (every x86_64 Lambda host has
//! it): classify 64 bytes at a time and list where every token starts, then check the grammar
//! over that list.
//!
//! Why: the scalar scanner is bound by one chain of dependent steps (each token's end is the
//! next token's start), about 7 cycles a token on dense payloads, which kept the handler's
//! work above twice the HMAC's. Here stage 1 finds, for a whole block at once and with no
//! chain between blocks but three carried bits, every quote, backslash, control character,
//! bracket, colon and comma, and which bytes are inside strings, and writes down the position
//! of each structural character, string start and number or literal start. Stage 2 is the
//! scalar scanner's recursive descent run over that list: the next token's position is a load
//! from the list, not the end of the previous token, so the chain is gone. String contents are
//! never walked byte by byte.
//!
//! It only ever answers for valid texts. On anything it does not accept (invalid JSON, nesting
//! over [`MAX_DEPTH`]) it returns `None` and the scalar scanner, which reports the exact error,
//! runs instead; so a mistake here can cost speed but must never let an invalid text through.
//! The unit tests and the fuzz target `json` hold it to the scalar scanner.
//!
//! `unsafe` is confined to what the intrinsics need (calling the AVX2 stage 1 once the CPU is
//! known to have the features, unaligned vector loads from arrays of the right size, stores
//! into reserved spare capacity) and to stage 2 reading the text at a listed position, which
//! stage 1 keeps in bounds.

use std::arch::x86_64::{
    __m256i, _mm_clmulepi64_si128, _mm_cmpeq_epi8, _mm_cvtsi128_si64, _mm_loadl_epi64,
    _mm_loadu_si128, _mm_min_epu8, _mm_movemask_epi8, _mm_set_epi64x, _mm_set1_epi8, _mm_sub_epi8,
    _mm256_add_epi32, _mm256_and_si256, _mm256_cmpeq_epi8, _mm256_cmpgt_epi8, _mm256_cvtepu8_epi32,
    _mm256_loadu_si256, _mm256_min_epu8, _mm256_movemask_epi8, _mm256_set1_epi8, _mm256_set1_epi32,
    _mm256_setr_epi8, _mm256_setzero_si256, _mm256_shuffle_epi8, _mm256_srli_epi16,
    _mm256_storeu_si256,
};
use std::cell::Cell;

use super::{MAX_DEPTH, Scanned, Scanner, TopLevel};

/// Longer texts go to the scalar scanner, which needs no memory: the token list costs up to
/// four bytes per byte of text, and a body this large is stored in S3, not put on the bus.
const MAX_LEN: usize = 1 << 20;

const BLOCK: usize = 64;

/// One block's bytes of each class, bit `i` for byte `i`.
struct Classes {
    quote: u64,
    backslash: u64,
    /// Bytes below 0x20 (never allowed inside a string).
    control: u64,
    /// Space, tab, line feed, carriage return, or an operator: what ends a number or literal.
    space_or_operator: u64,
    /// `{ } [ ] : ,`
    operator: u64,
}

/// Bit `i` of the result for byte `i` of the 32 bytes in `v` whose lane is all ones.
#[inline]
#[target_feature(enable = "avx2")]
fn bits(v: __m256i) -> u64 {
    u64::from(_mm256_movemask_epi8(v) as u32)
}

/// Nibble tables for `vpshufb`: a byte's class is `LOW[low nibble] & HIGH[high nibble]`.
/// Bit 0: space; bit 1: tab, line feed, carriage return; bit 2: `{ } [ ]`; bit 3: `:`;
/// bit 4: `,`. Every other byte, 0x80 and above included, gets 0. So a class above 0 is a
/// space or an operator, and a class above [`LAST_SPACE`] an operator: one compare each.
const LOW: [i8; 16] = [1, 0, 0, 0, 0, 0, 0, 0, 0, 2, 10, 4, 16, 6, 0, 0];
const HIGH: [i8; 16] = [2, 0, 17, 8, 0, 4, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0];
const LAST_SPACE: i8 = 0b11;

#[inline]
#[target_feature(enable = "avx2")]
fn table(t: [i8; 16]) -> __m256i {
    _mm256_setr_epi8(
        t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7], t[8], t[9], t[10], t[11], t[12], t[13],
        t[14], t[15], t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7], t[8], t[9], t[10], t[11],
        t[12], t[13], t[14], t[15],
    )
}

#[inline]
#[target_feature(enable = "avx2")]
fn classify(block: &[u8; BLOCK]) -> Classes {
    let mut c = Classes {
        quote: 0,
        backslash: 0,
        control: 0,
        space_or_operator: 0,
        operator: 0,
    };
    let (low, high) = (table(LOW), table(HIGH));
    let nibble = _mm256_set1_epi8(0x0f);
    for k in 0..BLOCK / 32 {
        // SAFETY: `block` is 64 bytes and `k * 32 + 32 <= 64`; the load needs no alignment.
        let v = unsafe { _mm256_loadu_si256(block.as_ptr().add(k * 32).cast()) };
        let shift = k * 32;
        let class = _mm256_and_si256(
            _mm256_shuffle_epi8(low, _mm256_and_si256(v, nibble)),
            _mm256_shuffle_epi8(high, _mm256_and_si256(_mm256_srli_epi16(v, 4), nibble)),
        );
        c.quote |= bits(_mm256_cmpeq_epi8(v, _mm256_set1_epi8(b'"' as i8))) << shift;
        c.backslash |= bits(_mm256_cmpeq_epi8(v, _mm256_set1_epi8(b'\\' as i8))) << shift;
        let below_space = _mm256_cmpeq_epi8(_mm256_min_epu8(v, _mm256_set1_epi8(0x1f)), v);
        c.control |= bits(below_space) << shift;
        c.space_or_operator |= bits(_mm256_cmpgt_epi8(class, _mm256_setzero_si256())) << shift;
        c.operator |= bits(_mm256_cmpgt_epi8(class, _mm256_set1_epi8(LAST_SPACE))) << shift;
    }
    c
}

/// Bit `i` set when an odd number of bits at or below `i` are set in `x`: a carry-less
/// multiplication by all ones.
#[inline]
#[target_feature(enable = "pclmulqdq,sse2")]
fn prefix_xor(x: u64) -> u64 {
    let product = _mm_clmulepi64_si128(_mm_set_epi64x(0, x as i64), _mm_set_epi64x(0, -1), 0);
    _mm_cvtsi128_si64(product) as u64
}

/// What may follow a backslash: 1 for a one-byte escape, 2 for `u` (four hex digits follow).
static ESCAPE: [u8; 256] = {
    let mut table = [0; 256];
    let mut c = 0;
    while c < 256 {
        table[c] = (super::ONE_BYTE_ESCAPE[c] != 0) as u8;
        c += 1;
    }
    table[b'u' as usize] = 2;
    table
};

static HEX: [bool; 256] = {
    let mut table = [false; 256];
    let mut c = 0;
    while c < 256 {
        table[c] = (c as u8).is_ascii_hexdigit();
        c += 1;
    }
    table
};

const EVEN: u64 = 0x5555_5555_5555_5555;

/// The bytes that may follow a number or literal: space, an operator or a quote.
static DELIMITER: [bool; 256] = {
    let mut table = [false; 256];
    let delimiters = b" \t\n\r,:\"{}[]";
    let mut i = 0;
    while i < delimiters.len() {
        table[delimiters[i] as usize] = true;
        i += 1;
    }
    table
};

/// The bytes escaped by a backslash, each escape checked as JSON allows: the byte after each
/// run of backslashes of odd length (the backslashes inside a run escape each other and are
/// not marked, except a carried-in first byte). `carry` says whether the first byte of the
/// block is escaped, and is set for the next block.
///
/// In a run of backslashes every other one escapes the next byte, so a run escapes the byte
/// after it when its length is odd. Adding a run's first bit to the mask carries just past the
/// run's end; the run's length is odd when its start and that end differ in parity. No loop
/// over backslashes: only the escapes are visited, to check them.
#[inline(always)]
fn escaped(backslash: u64, carry: &mut bool, text: &[u8], base: usize) -> Option<u64> {
    let carried = u64::from(*carry);
    // An escaped first byte, even a backslash, starts no escape.
    let backslash = backslash & !carried;
    let starts = backslash & !(backslash << 1);
    let from_even = backslash.wrapping_add(starts & EVEN) & !backslash;
    let (sum, overflow) = backslash.overflowing_add(starts & !EVEN);
    let from_odd = sum & !backslash;
    // A run that reaches the last byte escapes the next block's first byte when it started on
    // an odd bit (its length is then odd).
    *carry = overflow;
    let escaped = (from_even & !EVEN) | (from_odd & EVEN) | carried;
    let mut todo = escaped;
    while todo != 0 {
        let at = base + todo.trailing_zeros() as usize;
        todo &= todo - 1;
        match text.get(at).map(|&c| ESCAPE[usize::from(c)]) {
            Some(1) => {}
            Some(2) => {
                let hex = text.get(at + 1..at + 5)?;
                if !hex.iter().all(|&h| HEX[usize::from(h)]) {
                    return None;
                }
            }
            _ => return None,
        }
    }
    Some(escaped)
}

/// Bit `i` set when `chunk[i]` is an ASCII digit.
#[inline]
#[target_feature(enable = "sse2")]
fn digits(chunk: &[u8; 16]) -> u32 {
    // SAFETY: `chunk` is 16 bytes, the width of the load, which needs no alignment.
    let v = unsafe { _mm_loadu_si128(chunk.as_ptr().cast()) };
    let offset = _mm_sub_epi8(v, _mm_set1_epi8(b'0' as i8));
    let digit = _mm_cmpeq_epi8(_mm_min_epu8(offset, _mm_set1_epi8(9)), offset);
    _mm_movemask_epi8(digit) as u32
}

/// Stage 2: the grammar over the token list. Each step takes the index of a token in the list
/// and returns the index after what it read; `None` is any refusal.
struct Walk<'s, 't> {
    scanner: &'s Scanner<'t>,
    /// The text's bytes, held here too so that reading a token is one load from `self`, not
    /// two (through `scanner`).
    b: &'t [u8],
    /// Token positions. Reading past the last one gives the text's length, where
    /// [`Walk::token`] reads the byte 0, which is valid nowhere.
    tokens: &'s [u32],
}

impl<'t> Walk<'_, 't> {
    /// The position of token `k` and its first byte.
    #[inline(always)]
    fn token(&self, k: usize) -> (usize, u8) {
        match self.tokens.get(k) {
            Some(&p) => {
                let pos = p as usize;
                debug_assert!(pos < self.b.len());
                // SAFETY: stage 1 lists only positions of the text's own bytes (the padding
                // after a short last block is spaces, which start no token), so `pos` is in
                // bounds. This read is on every token's path; a check here cost 5% of the scan.
                (pos, unsafe { *self.b.get_unchecked(pos) })
            }
            None => (self.b.len(), 0),
        }
    }

    /// A number or literal must end where a space, an operator or a quote begins (or at the
    /// end): only an atom's first byte is listed, so `12x` is caught here.
    ///
    /// This check also keeps a stray backslash out: stage 1 works out escapes without knowing
    /// which bytes are in strings, so a backslash outside a string could change what it takes
    /// for string interiors. Such a backslash is an atom byte; an atom starting with it is no
    /// value, and a number or literal stops before it, which fails here because `\` is not in
    /// [`DELIMITER`]. Keep it out of that table.
    #[inline(always)]
    fn atom_end(&self, end: usize) -> Option<()> {
        match self.b.get(end) {
            Some(&c) => DELIMITER[usize::from(c)].then_some(()),
            None => Some(()),
        }
    }

    /// Whether the number at `pos` (first byte `c`) is an integer that ends, within 16
    /// bytes, where a delimiter begins: `-?(0|[1-9][0-9]*)`, found with one vector compare.
    /// Ids, counts and timestamps nearly always are. `false` is no verdict: the caller then
    /// reads the number byte by byte. Why: that loop's exit depends on the number's length, a
    /// branch the CPU often guesses wrong, and it was a fifth of stage 2 on payloads with ids.
    #[inline(always)]
    fn short_integer(&self, pos: usize, c: u8) -> bool {
        let Some(chunk) = self.b.get(pos..).and_then(<[u8]>::first_chunk::<16>) else {
            return false;
        };
        // SAFETY: SSE2 is part of every x86_64 CPU.
        let digits = unsafe { digits(chunk) };
        let sign = usize::from(c == b'-');
        let run = (!(digits >> sign)).trailing_zeros() as usize;
        let end = sign + run;
        end < 16
            && (run == 1 || (run > 1 && chunk[sign] != b'0'))
            && DELIMITER[usize::from(chunk[end])]
    }

    #[inline(always)]
    fn value(&self, k: usize, depth: u32) -> Option<usize> {
        let (pos, c) = self.token(k);
        match c {
            b'"' => Some(k + 1),
            b'-' | b'0'..=b'9' => {
                if !self.short_integer(pos, c) {
                    let end = self.scanner.number(pos).ok()?;
                    self.atom_end(end)?;
                }
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
            let wanted = top.member(self.string_at(self.token(k).0).as_deref(), reserved);
            k = self.value(value_at, 1)?;
            top.keep(wanted, || match self.token(value_at) {
                (pos, b'"') => self.string_at(pos),
                _ => None,
            });
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
        // Every token must be used: nothing may follow the value.
        (self.token(end).0 == self.b.len()).then_some(scanned)
    }
}

/// For each byte value, the indexes of its set bits in ascending order (then zeros).
static BIT_INDEXES: [[u8; 8]; 256] = bit_indexes();

const fn bit_indexes() -> [[u8; 8]; 256] {
    let mut table = [[0; 8]; 256];
    let mut value = 0;
    while value < 256 {
        let (mut bit, mut n) = (0, 0);
        while bit < 8 {
            if value >> bit & 1 == 1 {
                table[value][n] = bit as u8;
                n += 1;
            }
            bit += 1;
        }
        value += 1;
    }
    table
}

/// Appends `base` + the index of each bit set in `visit`, a byte of the mask at a time: eight
/// positions are looked up, widened and stored at once, and the end moves on by the byte's
/// number of bits. There is no chain from one bit to the next (clearing the lowest bit of
/// the mask one at a time is a 2-cycle chain per token), and no branch on the data.
#[inline]
#[target_feature(enable = "avx2,popcnt")]
fn write_positions(tokens: &mut Vec<u32>, base: usize, visit: u64) {
    // Each store writes eight slots, possibly past the last position it adds. The k-th store
    // starts at most 8 * k slots in, so the last (k = 7) ends by slot 64.
    tokens.reserve(BLOCK);
    let start = tokens.len();
    let mut end = start;
    let out = tokens.spare_capacity_mut().as_mut_ptr().cast::<u32>();
    // Offsets fit in u32: texts over MAX_LEN never get here.
    let mut at = _mm256_set1_epi32(base as i32);
    for k in 0..8 {
        let byte = (visit >> (8 * k)) as u8;
        // SAFETY: the table row is 8 bytes, the width of the load.
        let indexes = unsafe { _mm_loadl_epi64(BIT_INDEXES[byte as usize].as_ptr().cast()) };
        let positions = _mm256_add_epi32(_mm256_cvtepu8_epi32(indexes), at);
        // SAFETY: `end - start` <= 56 here, so the eight slots written lie within the
        // BLOCK spare slots reserved above; the store needs no alignment.
        unsafe { _mm256_storeu_si256(out.add(end - start).cast(), positions) };
        end += byte.count_ones() as usize;
        at = _mm256_add_epi32(at, _mm256_set1_epi32(8));
    }
    // SAFETY: slots `start..end` were written above (each byte's positions land before the
    // next byte's store begins), and u32 has no invalid bit patterns.
    unsafe { tokens.set_len(end) };
}

/// Stage 1: the position of every token start, in order. `None` when the text is certainly
/// invalid (a control character in a string, a bad escape, an unclosed string).
#[target_feature(enable = "avx2,bmi1,pclmulqdq,popcnt")]
fn tokens(b: &[u8]) -> Option<Vec<u32>> {
    let mut tokens: Vec<u32> = Vec::with_capacity(b.len() / 2 + BLOCK);
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
        let c = classify(block);
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
        let atom = !(c.space_or_operator | quote) & outside;
        let atom_starts = atom & !((atom << 1) | atom_carry);
        atom_carry = atom >> 63;
        let visit = (c.operator & outside) | (quote & inside) | atom_starts;
        write_positions(&mut tokens, base, visit);
    }
    if inside_carry != 0 || escape_carry {
        return None;
    }
    Some(tokens)
}

/// Whether this CPU runs the fast path. std caches the answer, so this is a load and a test.
pub(super) fn available() -> bool {
    is_x86_feature_detected!("avx2")
        && is_x86_feature_detected!("bmi1")
        && is_x86_feature_detected!("pclmulqdq")
        && is_x86_feature_detected!("popcnt")
}

/// `Some` exactly when `text` is one valid JSON value within [`MAX_DEPTH`], with what
/// [`super::scan`] would read from it; `None` otherwise (the caller then runs the scalar
/// scanner for the answer and the error).
pub(super) fn scan<'t>(text: &'t str, reserved: &str) -> Option<Scanned<'t>> {
    let b = text.as_bytes();
    if b.len() > MAX_LEN {
        return None;
    }
    if !available() {
        return None;
    }
    // SAFETY: the CPU has every feature `tokens` is compiled for (`available`).
    let tokens = unsafe { tokens(b) }?;
    let scanner = Scanner {
        b,
        text,
        error_at: Cell::new(0),
    };
    Walk {
        scanner: &scanner,
        b,
        tokens: &tokens,
    }
    .document(reserved)
}
