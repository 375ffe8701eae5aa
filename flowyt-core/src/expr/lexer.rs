//! Tokeniser for the Python-flavoured expression language.
//!
//! The whole input is tokenised up front; every token keeps its byte range in the
//! expression source so that the parser and the evaluator can point at it.

use std::ops::Range;

use super::SyntaxError;

/// A reserved word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kw {
    And,
    Or,
    Not,
    In,
    Is,
    If,
    Else,
    For,
    Lambda,
    True,
    False,
    None,
}

impl Kw {
    fn from_ident(s: &str) -> Option<Kw> {
        Some(match s {
            "and" => Kw::And,
            "or" => Kw::Or,
            "not" => Kw::Not,
            "in" => Kw::In,
            "is" => Kw::Is,
            "if" => Kw::If,
            "else" => Kw::Else,
            "for" => Kw::For,
            "lambda" => Kw::Lambda,
            "True" => Kw::True,
            "False" => Kw::False,
            "None" => Kw::None,
            _ => return None,
        })
    }

    /// The source spelling of the keyword.
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Kw::And => "and",
            Kw::Or => "or",
            Kw::Not => "not",
            Kw::In => "in",
            Kw::Is => "is",
            Kw::If => "if",
            Kw::Else => "else",
            Kw::For => "for",
            Kw::Lambda => "lambda",
            Kw::True => "True",
            Kw::False => "False",
            Kw::None => "None",
        }
    }
}

/// Punctuation and operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum P {
    LParen,
    RParen,
    LBracket,
    RBracket,
    LBrace,
    RBrace,
    Comma,
    Colon,
    Dot,
    Plus,
    Minus,
    Star,
    Slash,
    DoubleSlash,
    Percent,
    DoubleStar,
    EqEq,
    NotEq,
    Lt,
    Le,
    Gt,
    Ge,
    Assign,
}

impl P {
    /// The source spelling of the punctuation.
    pub(super) fn as_str(self) -> &'static str {
        match self {
            P::LParen => "(",
            P::RParen => ")",
            P::LBracket => "[",
            P::RBracket => "]",
            P::LBrace => "{",
            P::RBrace => "}",
            P::Comma => ",",
            P::Colon => ":",
            P::Dot => ".",
            P::Plus => "+",
            P::Minus => "-",
            P::Star => "*",
            P::Slash => "/",
            P::DoubleSlash => "//",
            P::Percent => "%",
            P::DoubleStar => "**",
            P::EqEq => "==",
            P::NotEq => "!=",
            P::Lt => "<",
            P::Le => "<=",
            P::Gt => ">",
            P::Ge => ">=",
            P::Assign => "=",
        }
    }
}

/// A token kind with its payload.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok {
    /// An integer literal; the sign is applied by the parser, so `u64` is enough.
    Int(u64),
    /// A float literal.
    Float(f64),
    /// A string literal with escapes already resolved.
    Str(String),
    /// An identifier.
    Name(String),
    /// A reserved word.
    Kw(Kw),
    /// Punctuation.
    P(P),
    /// End of input.
    Eof,
}

/// A token and where it is in the source.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Token {
    pub tok: Tok,
    pub range: Range<usize>,
}

/// Tokenises `src`. The returned vector always ends with [`Tok::Eof`].
pub(super) fn lex(src: &str) -> Result<Vec<Token>, SyntaxError> {
    let mut lx = Lexer {
        src,
        pos: 0,
        out: Vec::new(),
    };
    lx.run()?;
    Ok(lx.out)
}

struct Lexer<'s> {
    src: &'s str,
    pos: usize,
    out: Vec<Token>,
}

fn is_ident_start(c: char) -> bool {
    c == '_' || c.is_alphabetic()
}

fn is_ident_continue(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

impl<'s> Lexer<'s> {
    fn peek(&self) -> Option<char> {
        self.src[self.pos..].chars().next()
    }

    fn peek_at(&self, n: usize) -> Option<char> {
        self.src[self.pos..].chars().nth(n)
    }

    fn push(&mut self, tok: Tok, start: usize) {
        self.out.push(Token {
            tok,
            range: start..self.pos,
        });
    }

    fn run(&mut self) -> Result<(), SyntaxError> {
        while let Some(c) = self.peek() {
            let start = self.pos;
            if c.is_whitespace() {
                self.pos += c.len_utf8();
                continue;
            }
            if c == '\\' {
                // Python's explicit line continuation.
                if self.peek_at(1) == Some('\n') {
                    self.pos += 2;
                    continue;
                }
                if self.peek_at(1) == Some('\r') && self.peek_at(2) == Some('\n') {
                    self.pos += 3;
                    continue;
                }
                return Err(SyntaxError::new(
                    "unexpected character `\\`",
                    start..start + 1,
                ));
            }
            if c.is_ascii_digit()
                || (c == '.' && self.peek_at(1).is_some_and(|d| d.is_ascii_digit()))
            {
                self.number()?;
                continue;
            }
            if c == '\'' || c == '"' {
                self.string(start, false)?;
                continue;
            }
            if is_ident_start(c) {
                self.ident_or_prefixed_string()?;
                continue;
            }
            self.punct(c)?;
        }
        let end = self.src.len();
        self.out.push(Token {
            tok: Tok::Eof,
            range: end..end,
        });
        Ok(())
    }

    fn ident_or_prefixed_string(&mut self) -> Result<(), SyntaxError> {
        let start = self.pos;
        while let Some(c) = self.peek() {
            if !is_ident_continue(c) {
                break;
            }
            self.pos += c.len_utf8();
        }
        let word = &self.src[start..self.pos];
        if matches!(self.peek(), Some('\'' | '"')) {
            match word.to_ascii_lowercase().as_str() {
                "r" => return self.string(start, true),
                "u" => return self.string(start, false),
                "f" | "rf" | "fr" => {
                    return Err(SyntaxError::new(
                        "f-strings are not supported",
                        start..self.pos,
                    ));
                }
                "b" | "rb" | "br" => {
                    return Err(SyntaxError::new(
                        "bytes literals are not supported",
                        start..self.pos,
                    ));
                }
                _ => {}
            }
        }
        let tok = match Kw::from_ident(word) {
            Some(kw) => Tok::Kw(kw),
            None => Tok::Name(word.to_string()),
        };
        self.push(tok, start);
        Ok(())
    }

    fn punct(&mut self, c: char) -> Result<(), SyntaxError> {
        let start = self.pos;
        let next = self.peek_at(1);
        let (p, len) = match (c, next) {
            ('(', _) => (P::LParen, 1),
            (')', _) => (P::RParen, 1),
            ('[', _) => (P::LBracket, 1),
            (']', _) => (P::RBracket, 1),
            ('{', _) => (P::LBrace, 1),
            ('}', _) => (P::RBrace, 1),
            (',', _) => (P::Comma, 1),
            (':', Some('=')) => return Err(self.unsupported(2)),
            (':', _) => (P::Colon, 1),
            ('.', _) => (P::Dot, 1),
            ('+', _) => (P::Plus, 1),
            ('-', Some('>')) => return Err(self.unsupported(2)),
            ('-', _) => (P::Minus, 1),
            ('*', Some('*')) => (P::DoubleStar, 2),
            ('*', _) => (P::Star, 1),
            ('/', Some('/')) => (P::DoubleSlash, 2),
            ('/', _) => (P::Slash, 1),
            ('%', _) => (P::Percent, 1),
            ('=', Some('=')) => (P::EqEq, 2),
            ('=', _) => (P::Assign, 1),
            ('!', Some('=')) => (P::NotEq, 2),
            ('<', Some('=')) => (P::Le, 2),
            ('<', Some('<')) => return Err(self.unsupported(2)),
            ('<', _) => (P::Lt, 1),
            ('>', Some('=')) => (P::Ge, 2),
            ('>', Some('>')) => return Err(self.unsupported(2)),
            ('>', _) => (P::Gt, 1),
            ('|' | '&' | '^' | '~' | '@', _) => return Err(self.unsupported(1)),
            _ => {
                return Err(SyntaxError::new(
                    format!("unexpected character `{}`", c.escape_debug()),
                    start..start + c.len_utf8(),
                ));
            }
        };
        self.pos += len;
        // Compound assignments (`+=`, `**=`, ...) are not expressions.
        if matches!(
            p,
            P::Plus | P::Minus | P::Star | P::Slash | P::DoubleSlash | P::Percent | P::DoubleStar
        ) && self.peek() == Some('=')
        {
            return Err(SyntaxError::new(
                format!("unsupported operator `{}=`", p.as_str()),
                start..self.pos + 1,
            ));
        }
        self.push(Tok::P(p), start);
        Ok(())
    }

    fn unsupported(&self, len: usize) -> SyntaxError {
        let end = self.pos + len;
        SyntaxError::new(
            format!("unsupported operator `{}`", &self.src[self.pos..end]),
            self.pos..end,
        )
    }

    fn digits(&mut self, radix: u32, out: &mut String) -> Result<(), SyntaxError> {
        let mut last_underscore = false;
        while let Some(c) = self.peek() {
            if c == '_' {
                if last_underscore || out.is_empty() {
                    return Err(SyntaxError::new(
                        "invalid number literal",
                        self.pos..self.pos + 1,
                    ));
                }
                last_underscore = true;
                self.pos += 1;
                continue;
            }
            if !c.is_digit(radix) {
                break;
            }
            last_underscore = false;
            out.push(c);
            self.pos += 1;
        }
        if last_underscore {
            return Err(SyntaxError::new(
                "invalid number literal",
                self.pos - 1..self.pos,
            ));
        }
        Ok(())
    }

    fn number(&mut self) -> Result<(), SyntaxError> {
        let start = self.pos;
        let radix = match (self.peek(), self.peek_at(1)) {
            (Some('0'), Some('x' | 'X')) => 16,
            (Some('0'), Some('o' | 'O')) => 8,
            (Some('0'), Some('b' | 'B')) => 2,
            _ => 10,
        };
        if radix != 10 {
            self.pos += 2;
            let mut text = String::new();
            // Python allows an underscore right after the prefix.
            if self.peek() == Some('_') {
                self.pos += 1;
            }
            self.digits(radix, &mut text)?;
            self.check_number_end(start)?;
            if text.is_empty() {
                return Err(SyntaxError::new("invalid number literal", start..self.pos));
            }
            let v = u64::from_str_radix(&text, radix)
                .map_err(|_| SyntaxError::new("integer literal too large", start..self.pos))?;
            self.push(Tok::Int(v), start);
            return Ok(());
        }
        let mut text = String::new();
        self.digits(10, &mut text)?;
        let mut is_float = false;
        if self.peek() == Some('.') {
            is_float = true;
            text.push('.');
            self.pos += 1;
            if self.peek().is_some_and(|c| c.is_ascii_digit()) {
                self.digits(10, &mut text)?;
            }
        }
        if matches!(self.peek(), Some('e' | 'E')) {
            let sign = self.peek_at(1);
            let has_sign = matches!(sign, Some('+' | '-'));
            let digit_at = if has_sign { 2 } else { 1 };
            if self.peek_at(digit_at).is_some_and(|c| c.is_ascii_digit()) {
                is_float = true;
                text.push('e');
                self.pos += 1;
                if let Some(s @ ('+' | '-')) = sign {
                    text.push(s);
                    self.pos += 1;
                }
                self.digits(10, &mut text)?;
            }
        }
        self.check_number_end(start)?;
        let range = start..self.pos;
        if is_float {
            if text.starts_with('.') {
                text.insert(0, '0');
            }
            let v: f64 = text
                .parse()
                .map_err(|_| SyntaxError::new("invalid number literal", range.clone()))?;
            if !v.is_finite() {
                return Err(SyntaxError::new("float literal out of range", range));
            }
            self.push(Tok::Float(v), start);
        } else {
            if text.len() > 1 && text.starts_with('0') && text.bytes().any(|b| b != b'0') {
                return Err(SyntaxError::new(
                    "leading zeros in decimal integer literals are not permitted",
                    range,
                ));
            }
            let v: u64 = text
                .parse()
                .map_err(|_| SyntaxError::new("integer literal too large", range))?;
            self.push(Tok::Int(v), start);
        }
        Ok(())
    }

    fn check_number_end(&mut self, start: usize) -> Result<(), SyntaxError> {
        if let Some(c) = self.peek()
            && (is_ident_continue(c) || c == '.')
        {
            let mut end = self.pos + c.len_utf8();
            // Extend over the rest of the word so the error covers it.
            while let Some(c) = self.src[end..].chars().next() {
                if !is_ident_continue(c) {
                    break;
                }
                end += c.len_utf8();
            }
            let message = if c == 'j' || c == 'J' {
                "complex literals are not supported"
            } else {
                "invalid number literal"
            };
            return Err(SyntaxError::new(message, start..end));
        }
        Ok(())
    }

    /// Lexes a string literal whose opening quote is at `self.pos`; `start` is where its
    /// prefix (if any) begins.
    fn string(&mut self, start: usize, raw: bool) -> Result<(), SyntaxError> {
        let Some(q) = self.peek() else {
            return Err(SyntaxError::new(
                "unterminated string literal",
                start..self.pos,
            ));
        };
        let triple = self.peek_at(1) == Some(q) && self.peek_at(2) == Some(q);
        let open_len = if triple { 3 } else { 1 };
        self.pos += open_len;
        let open_range = start..self.pos;
        let unterminated = || SyntaxError::new("unterminated string literal", open_range.clone());
        let mut value = String::new();
        loop {
            let Some(c) = self.peek() else {
                return Err(unterminated());
            };
            if c == q {
                if !triple {
                    self.pos += 1;
                    break;
                }
                if self.peek_at(1) == Some(q) && self.peek_at(2) == Some(q) {
                    self.pos += 3;
                    break;
                }
                value.push(c);
                self.pos += 1;
                continue;
            }
            if (c == '\n' || c == '\r') && !triple {
                return Err(unterminated());
            }
            if c == '\\' {
                let esc_start = self.pos;
                self.pos += 1;
                let Some(e) = self.peek() else {
                    return Err(unterminated());
                };
                if raw {
                    value.push('\\');
                    value.push(e);
                    self.pos += e.len_utf8();
                    continue;
                }
                self.pos += e.len_utf8();
                match e {
                    '\n' => {}
                    '\r' => {
                        if self.peek() == Some('\n') {
                            self.pos += 1;
                        }
                    }
                    '\\' => value.push('\\'),
                    '\'' => value.push('\''),
                    '"' => value.push('"'),
                    'a' => value.push('\u{7}'),
                    'b' => value.push('\u{8}'),
                    'f' => value.push('\u{c}'),
                    'n' => value.push('\n'),
                    'r' => value.push('\r'),
                    't' => value.push('\t'),
                    'v' => value.push('\u{b}'),
                    '0'..='7' => {
                        let mut code = e.to_digit(8).unwrap_or(0);
                        for _ in 0..2 {
                            match self.peek().and_then(|d| d.to_digit(8)) {
                                Some(d) => {
                                    code = code * 8 + d;
                                    self.pos += 1;
                                }
                                None => break,
                            }
                        }
                        // At most 0o777, always a valid scalar value.
                        value.push(char::from_u32(code).unwrap_or('\u{FFFD}'));
                    }
                    'x' | 'u' | 'U' => {
                        let n = match e {
                            'x' => 2,
                            'u' => 4,
                            _ => 8,
                        };
                        let mut code: u32 = 0;
                        for _ in 0..n {
                            match self.peek().and_then(|d| d.to_digit(16)) {
                                Some(d) => {
                                    code = code.wrapping_mul(16).wrapping_add(d);
                                    self.pos += 1;
                                }
                                None => {
                                    return Err(SyntaxError::new(
                                        format!("invalid `\\{e}` escape"),
                                        esc_start..self.pos,
                                    ));
                                }
                            }
                        }
                        match char::from_u32(code) {
                            Some(ch) => value.push(ch),
                            None => {
                                return Err(SyntaxError::new(
                                    "invalid unicode escape",
                                    esc_start..self.pos,
                                ));
                            }
                        }
                    }
                    'N' => {
                        return Err(SyntaxError::new(
                            "`\\N{...}` escapes are not supported",
                            esc_start..self.pos,
                        ));
                    }
                    other => {
                        // Python keeps unknown escapes as they are.
                        value.push('\\');
                        value.push(other);
                    }
                }
                continue;
            }
            value.push(c);
            self.pos += c.len_utf8();
        }
        self.push(Tok::Str(value), start);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(src: &str) -> Vec<Tok> {
        match lex(src) {
            Ok(t) => t.into_iter().map(|t| t.tok).collect(),
            Err(e) => panic!("lex error {e:?} for {src:?}"),
        }
    }

    fn err(src: &str) -> SyntaxError {
        match lex(src) {
            Ok(t) => panic!("expected an error for {src:?}, got {t:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn numbers() {
        assert_eq!(toks("1"), vec![Tok::Int(1), Tok::Eof]);
        assert_eq!(toks("1_000"), vec![Tok::Int(1000), Tok::Eof]);
        assert_eq!(
            toks("0x1f 0o17 0b101"),
            vec![Tok::Int(31), Tok::Int(15), Tok::Int(5), Tok::Eof]
        );
        assert_eq!(
            toks("1.5 .5 1. 1e3 1E-2 2.5e+1"),
            vec![
                Tok::Float(1.5),
                Tok::Float(0.5),
                Tok::Float(1.0),
                Tok::Float(1000.0),
                Tok::Float(0.01),
                Tok::Float(25.0),
                Tok::Eof
            ]
        );
        assert_eq!(toks("00"), vec![Tok::Int(0), Tok::Eof]);
        assert_eq!(
            err("01").message,
            "leading zeros in decimal integer literals are not permitted"
        );
        assert_eq!(err("1abc").message, "invalid number literal");
        assert_eq!(err("1abc").range, 0..4);
        assert_eq!(err("1j").message, "complex literals are not supported");
        assert_eq!(
            err("99999999999999999999999").message,
            "integer literal too large"
        );
        assert_eq!(err("1e999").message, "float literal out of range");
        assert_eq!(err("1__0").message, "invalid number literal");
    }

    #[test]
    fn strings_and_escapes() {
        assert_eq!(
            toks(r#"'a\'b' "c\"d" '\n\t\\' '\x41\u00e9\U0001F600' '\101' '\q'"#),
            vec![
                Tok::Str("a'b".into()),
                Tok::Str("c\"d".into()),
                Tok::Str("\n\t\\".into()),
                Tok::Str("Aé😀".into()),
                Tok::Str("A".into()),
                Tok::Str("\\q".into()),
                Tok::Eof
            ]
        );
        assert_eq!(toks(r"r'\n'"), vec![Tok::Str("\\n".into()), Tok::Eof]);
        assert_eq!(
            toks("'''a'b\nc'''"),
            vec![Tok::Str("a'b\nc".into()), Tok::Eof]
        );
        assert_eq!(toks("'é'"), vec![Tok::Str("é".into()), Tok::Eof]);
        let e = err("x + 'abc");
        assert_eq!(
            (e.message.as_str(), e.range),
            ("unterminated string literal", 4..5)
        );
        assert_eq!(err("'a\nb'").message, "unterminated string literal");
        assert_eq!(err(r"'\x4'").message, "invalid `\\x` escape");
        assert_eq!(err(r"'\ud800'").message, "invalid unicode escape");
        assert_eq!(err("f'x'").message, "f-strings are not supported");
        assert_eq!(err("b'x'").message, "bytes literals are not supported");
        assert_eq!(err("'\\").message, "unterminated string literal");
    }

    #[test]
    fn operators() {
        assert_eq!(
            toks("a//b**c!=d<=e>=f==g"),
            vec![
                Tok::Name("a".into()),
                Tok::P(P::DoubleSlash),
                Tok::Name("b".into()),
                Tok::P(P::DoubleStar),
                Tok::Name("c".into()),
                Tok::P(P::NotEq),
                Tok::Name("d".into()),
                Tok::P(P::Le),
                Tok::Name("e".into()),
                Tok::P(P::Ge),
                Tok::Name("f".into()),
                Tok::P(P::EqEq),
                Tok::Name("g".into()),
                Tok::Eof
            ]
        );
        assert_eq!(err("a | b").message, "unsupported operator `|`");
        assert_eq!(err("a << b").message, "unsupported operator `<<`");
        assert_eq!(err("a += 1").message, "unsupported operator `+=`");
        let e = err("a ! b");
        assert_eq!(
            (e.message.as_str(), e.range),
            ("unexpected character `!`", 2..3)
        );
        assert_eq!(err("a # c").message, "unexpected character `#`");
    }

    #[test]
    fn keywords_and_unicode_names() {
        assert_eq!(
            toks("not x in élan"),
            vec![
                Tok::Kw(Kw::Not),
                Tok::Name("x".into()),
                Tok::Kw(Kw::In),
                Tok::Name("élan".into()),
                Tok::Eof
            ]
        );
        let t = lex("ab  cd").unwrap_or_default();
        assert_eq!(t[1].range, 4..6);
        assert_eq!(t[2].range, 6..6);
    }
}
