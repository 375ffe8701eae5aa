//! Hand-written Pratt parser for the Python expression subset.
//!
//! Binding powers, loosest first: conditional expression (`x if c else y`) and `lambda`,
//! `or`, `and`, `not`, comparisons (chained, non-associative), `+ -`, `* / // %`, unary
//! `- +`, `**` (right-associative, binds tighter than a unary operator on its left), and the
//! postfix forms `.name`, `[index]`, `[lo:hi:step]` and `(args)`.
//!
//! Two bounds keep hostile input from exhausting the stack: the parser's own recursion
//! ([`MAX_NESTING`]) and the height of the produced tree ([`MAX_TREE_DEPTH`]), which also
//! bounds the evaluator's recursion and the tree's destructor.

use std::ops::Range;

use serde_json::Value;

use super::SyntaxError;
use super::ast::{BinOp, CmpOp, Generator, Kind, Kwarg, Node, UnaryOp};
use super::lexer::{Kw, P, Tok, Token, lex};

/// How deeply brackets, operators and calls may nest while parsing.
pub(super) const MAX_NESTING: usize = 64;
/// Maximum height of an expression tree (a chain `a.b.c` of n steps has height n + 1).
pub(super) const MAX_TREE_DEPTH: u32 = 100;

const TOO_DEEP: &str = "expression nested too deeply";

/// Binding powers (higher binds tighter).
mod bp {
    pub const TERNARY: u8 = 1;
    pub const OR: u8 = 2;
    pub const AND: u8 = 3;
    pub const NOT: u8 = 4;
    pub const CMP: u8 = 5;
    pub const ADD: u8 = 7;
    pub const MUL: u8 = 9;
    pub const UNARY: u8 = 11;
    pub const POW: u8 = 12;
}

pub(super) fn parse(src: &str) -> Result<Node, SyntaxError> {
    let toks = lex(src)?;
    let mut p = Parser {
        src,
        toks,
        pos: 0,
        nesting: 0,
        big_ints: Vec::new(),
    };
    if p.at_eof() {
        return Err(SyntaxError::new("expected an expression", 0..src.len()));
    }
    let node = p.expr(0)?;
    if !p.at_eof() {
        return Err(p.unexpected());
    }
    if let Some(r) = p.big_ints.first() {
        return Err(SyntaxError::new("integer literal too large", r.clone()));
    }
    Ok(node)
}

struct Parser<'s> {
    src: &'s str,
    toks: Vec<Token>,
    pos: usize,
    nesting: usize,
    /// Integer literals above `i64::MAX`; only `-9223372036854775808` is allowed, by folding.
    big_ints: Vec<Range<usize>>,
}

type PResult<T> = Result<T, SyntaxError>;

/// A postfix form or infix operator applied to the left-hand side.
type Infix<'s> = fn(&mut Parser<'s>, Node, usize, Next) -> PResult<Node>;

/// What [`Parser::postfix_or_infix`] did with the left-hand side.
enum Step {
    Next(Node),
    Done(Node),
}

/// The postfix form or infix operator at the cursor.
#[derive(Clone, Copy)]
enum Next {
    Attr,
    Call,
    Subscript,
    Ternary,
    Or,
    And,
    Compare,
    Binary(BinOp, u8),
    Stop,
}

/// Binding powers `(left, right)` of an arithmetic operator.
fn binary_op(p: P) -> Option<(BinOp, u8, u8)> {
    Some(match p {
        P::Plus => (BinOp::Add, bp::ADD, bp::ADD + 1),
        P::Minus => (BinOp::Sub, bp::ADD, bp::ADD + 1),
        P::Star => (BinOp::Mul, bp::MUL, bp::MUL + 1),
        P::Slash => (BinOp::Div, bp::MUL, bp::MUL + 1),
        P::DoubleSlash => (BinOp::FloorDiv, bp::MUL, bp::MUL + 1),
        P::Percent => (BinOp::Mod, bp::MUL, bp::MUL + 1),
        // Right-associative, and the exponent may carry a unary sign.
        P::DoubleStar => (BinOp::Pow, bp::POW, bp::UNARY),
        _ => return None,
    })
}
/// Loop variables of a `for` clause and whether they unpack.
type Targets = (Vec<(String, Range<usize>)>, bool);

impl<'s> Parser<'s> {
    // ---- token helpers -------------------------------------------------------------

    fn tok(&self) -> &Tok {
        self.toks.get(self.pos).map_or(&Tok::Eof, |t| &t.tok)
    }

    fn tok_at(&self, n: usize) -> &Tok {
        self.toks.get(self.pos + n).map_or(&Tok::Eof, |t| &t.tok)
    }

    fn range(&self) -> Range<usize> {
        match self.toks.get(self.pos) {
            Some(t) => t.range.clone(),
            None => self.src.len()..self.src.len(),
        }
    }

    /// End of the previously consumed token.
    fn prev_end(&self) -> usize {
        if self.pos == 0 {
            return 0;
        }
        self.toks
            .get(self.pos - 1)
            .map_or(self.src.len(), |t| t.range.end)
    }

    fn bump(&mut self) -> Range<usize> {
        let r = self.range();
        if self.pos < self.toks.len() {
            self.pos += 1;
        }
        r
    }

    fn at_eof(&self) -> bool {
        matches!(self.tok(), Tok::Eof)
    }

    fn is_p(&self, p: P) -> bool {
        *self.tok() == Tok::P(p)
    }

    fn is_kw(&self, k: Kw) -> bool {
        *self.tok() == Tok::Kw(k)
    }

    fn eat_p(&mut self, p: P) -> bool {
        if self.is_p(p) {
            self.bump();
            true
        } else {
            false
        }
    }

    fn describe(&self) -> String {
        let r = self.range();
        match self.tok() {
            Tok::Eof => "end of expression".to_string(),
            Tok::Str(_) => "a string literal".to_string(),
            _ => {
                let text = &self.src[r];
                if text.chars().count() > 32 {
                    let short: String = text.chars().take(32).collect();
                    format!("`{short}...`")
                } else {
                    format!("`{text}`")
                }
            }
        }
    }

    fn unexpected(&self) -> SyntaxError {
        let r = self.range();
        match self.tok() {
            Tok::Eof => SyntaxError::new("unexpected end of expression", r),
            Tok::P(P::Assign) => SyntaxError::new("unexpected `=`, use `==` to compare values", r),
            _ => SyntaxError::new(format!("unexpected {}", self.describe()), r),
        }
    }

    /// Expects the closing `close` of a bracket opened at `open`.
    fn close(&mut self, close: P, open: &Range<usize>, what: &str) -> PResult<()> {
        if self.eat_p(close) {
            return Ok(());
        }
        if self.at_eof() {
            let o = &self.src[open.clone()];
            return Err(SyntaxError::new(format!("unclosed `{o}`"), open.clone()));
        }
        Err(SyntaxError::new(
            format!("expected {what}, found {}", self.describe()),
            self.range(),
        ))
    }

    fn starts_expr(&self) -> bool {
        match self.tok() {
            Tok::Int(_) | Tok::Float(_) | Tok::Str(_) | Tok::Name(_) => true,
            Tok::Kw(k) => matches!(k, Kw::True | Kw::False | Kw::None | Kw::Not | Kw::Lambda),
            Tok::P(p) => matches!(p, P::LParen | P::LBracket | P::LBrace | P::Minus | P::Plus),
            Tok::Eof => false,
        }
    }

    /// Parses the operand after an operator, with a clear error if there is none.
    fn operand(&mut self, op: &str, op_range: Range<usize>, min_bp: u8) -> PResult<Node> {
        if !self.starts_expr() {
            return Err(SyntaxError::new(
                format!("expected an expression after `{op}`"),
                op_range,
            ));
        }
        self.expr(min_bp)
    }

    fn mk(&self, kind: Kind, range: Range<usize>) -> PResult<Node> {
        let mut node = Node {
            kind,
            range,
            depth: 1,
        };
        let mut max = 0;
        node.for_each_child(&mut |c| max = max.max(c.depth));
        node.depth = max + 1;
        if node.depth > MAX_TREE_DEPTH {
            return Err(SyntaxError::new(TOO_DEEP, node.range));
        }
        Ok(node)
    }

    // ---- expressions ---------------------------------------------------------------

    fn expr(&mut self, min_bp: u8) -> PResult<Node> {
        if self.nesting >= MAX_NESTING {
            return Err(SyntaxError::new(TOO_DEEP, self.range()));
        }
        self.nesting += 1;
        let r = self.expr_inner(min_bp);
        self.nesting -= 1;
        r
    }

    fn expr_inner(&mut self, min_bp: u8) -> PResult<Node> {
        let start = self.range().start;
        let mut lhs = self.prefix(min_bp)?;
        loop {
            match self.postfix_or_infix(lhs, start, min_bp)? {
                Step::Next(n) => lhs = n,
                Step::Done(n) => return Ok(n),
            }
        }
    }

    /// Applies one postfix form or infix operator to `lhs`, if the next token is one that
    /// binds at least as tightly as `min_bp`. Kept apart from [`Parser::expr_inner`] (and
    /// every form in its own function) so that the frames on the recursion path stay small.
    fn postfix_or_infix(&mut self, lhs: Node, start: usize, min_bp: u8) -> PResult<Step> {
        let next = match self.tok() {
            Tok::P(P::Dot) => Next::Attr,
            Tok::P(P::LParen) => Next::Call,
            Tok::P(P::LBracket) => Next::Subscript,
            Tok::Kw(Kw::If) if bp::TERNARY >= min_bp => Next::Ternary,
            Tok::Kw(Kw::Or) if bp::OR >= min_bp => Next::Or,
            Tok::Kw(Kw::And) if bp::AND >= min_bp => Next::And,
            _ if bp::CMP >= min_bp && self.cmp_op().is_some() => Next::Compare,
            Tok::P(p) => match binary_op(*p) {
                Some((op, lbp, rbp)) if lbp >= min_bp => Next::Binary(op, rbp),
                _ => Next::Stop,
            },
            _ => Next::Stop,
        };
        // One call site through a function pointer: unoptimised builds give every call
        // site its own stack slots, and this frame is on the recursion path.
        let form: Infix<'s> = match next {
            Next::Attr => Self::attribute,
            Next::Call => Self::call,
            Next::Subscript => Self::subscript,
            Next::Ternary => Self::ternary,
            Next::Or | Next::And => Self::bool_op,
            Next::Compare => Self::comparison,
            Next::Binary(..) => Self::binary,
            Next::Stop => return Ok(Step::Done(lhs)),
        };
        form(self, lhs, start, next).map(Step::Next)
    }

    fn ternary(&mut self, then: Node, start: usize, _: Next) -> PResult<Node> {
        let if_range = self.bump();
        let cond = self.operand("if", if_range, bp::OR)?;
        if !self.is_kw(Kw::Else) {
            return Err(SyntaxError::new(
                format!(
                    "expected `else` in conditional expression, found {}",
                    self.describe()
                ),
                self.range(),
            ));
        }
        let else_range = self.bump();
        let orelse = self.operand("else", else_range, bp::TERNARY)?;
        let kind = Kind::IfElse {
            then: Box::new(then),
            cond: Box::new(cond),
            orelse: Box::new(orelse),
        };
        self.mk(kind, start..self.prev_end())
    }

    fn bool_op(&mut self, lhs: Node, start: usize, next: Next) -> PResult<Node> {
        let is_and = matches!(next, Next::And);
        let op_range = self.bump();
        let (name, rbp) = if is_and {
            ("and", bp::AND + 1)
        } else {
            ("or", bp::OR + 1)
        };
        let rhs = self.operand(name, op_range, rbp)?;
        let kind = if is_and {
            Kind::And(Box::new(lhs), Box::new(rhs))
        } else {
            Kind::Or(Box::new(lhs), Box::new(rhs))
        };
        self.mk(kind, start..self.prev_end())
    }

    fn comparison(&mut self, first: Node, start: usize, _: Next) -> PResult<Node> {
        let mut rest = Vec::new();
        while let Some((op, len)) = self.cmp_op() {
            let op_start = self.range().start;
            for _ in 0..len {
                self.bump();
            }
            let op_range = op_start..self.prev_end();
            let rhs = self.operand(op.as_str(), op_range, bp::CMP + 1)?;
            rest.push((op, rhs));
        }
        self.mk(
            Kind::Compare {
                first: Box::new(first),
                rest,
            },
            start..self.prev_end(),
        )
    }

    fn binary(&mut self, lhs: Node, start: usize, next: Next) -> PResult<Node> {
        let Next::Binary(op, rbp) = next else {
            return Err(self.unexpected());
        };
        let op_range = self.bump();
        let rhs = self.operand(op.as_str(), op_range, rbp)?;
        let kind = Kind::Binary {
            op,
            lhs: Box::new(lhs),
            rhs: Box::new(rhs),
        };
        self.mk(kind, start..self.prev_end())
    }

    /// The comparison operator at the cursor and how many tokens it spans.
    fn cmp_op(&self) -> Option<(CmpOp, usize)> {
        Some(match self.tok() {
            Tok::P(P::EqEq) => (CmpOp::Eq, 1),
            Tok::P(P::NotEq) => (CmpOp::Ne, 1),
            Tok::P(P::Lt) => (CmpOp::Lt, 1),
            Tok::P(P::Le) => (CmpOp::Le, 1),
            Tok::P(P::Gt) => (CmpOp::Gt, 1),
            Tok::P(P::Ge) => (CmpOp::Ge, 1),
            Tok::Kw(Kw::In) => (CmpOp::In, 1),
            Tok::Kw(Kw::Not) if *self.tok_at(1) == Tok::Kw(Kw::In) => (CmpOp::NotIn, 2),
            Tok::Kw(Kw::Is) if *self.tok_at(1) == Tok::Kw(Kw::Not) => (CmpOp::IsNot, 2),
            Tok::Kw(Kw::Is) => (CmpOp::Is, 1),
            _ => return None,
        })
    }

    fn prefix(&mut self, min_bp: u8) -> PResult<Node> {
        // A function pointer and one call site, for the same reason as in
        // [`Parser::postfix_or_infix`].
        let form: fn(&mut Self) -> PResult<Node> = match self.tok() {
            Tok::Int(_) | Tok::Float(_) => Self::number,
            Tok::Str(_) => Self::string,
            Tok::Name(_) => Self::name,
            Tok::Kw(Kw::True | Kw::False | Kw::None) => Self::constant,
            Tok::Kw(Kw::Not) => Self::not,
            Tok::Kw(Kw::Lambda) if min_bp > bp::TERNARY => Self::misplaced_lambda,
            Tok::Kw(Kw::Lambda) => Self::lambda,
            Tok::P(P::Minus | P::Plus) => Self::unary,
            Tok::P(P::LParen) => Self::paren,
            Tok::P(P::LBracket) => Self::list,
            Tok::P(P::LBrace) => Self::dict,
            _ => Self::no_expression,
        };
        form(self)
    }

    #[cold]
    fn misplaced_lambda(&mut self) -> PResult<Node> {
        Err(SyntaxError::new(
            "`lambda` must be parenthesized here",
            self.range(),
        ))
    }

    #[cold]
    fn no_expression(&mut self) -> PResult<Node> {
        if matches!(self.tok(), Tok::P(P::Star) | Tok::P(P::DoubleStar)) {
            return Err(self.unexpected_unpack());
        }
        Err(self.unexpected())
    }

    fn number(&mut self) -> PResult<Node> {
        let tok = self.tok().clone();
        let r = self.bump();
        let value = match tok {
            Tok::Int(v) => {
                if v > i64::MAX as u64 {
                    self.big_ints.push(r.clone());
                }
                Value::from(v)
            }
            Tok::Float(v) => match serde_json::Number::from_f64(v) {
                Some(n) => Value::Number(n),
                None => return Err(SyntaxError::new("float literal out of range", r)),
            },
            _ => return Err(SyntaxError::new("expected a number", r)),
        };
        self.mk(Kind::Const(value), r)
    }

    /// One or more adjacent string literals, concatenated as in Python.
    fn string(&mut self) -> PResult<Node> {
        let start = self.range().start;
        let mut s = String::new();
        while let Tok::Str(more) = self.tok() {
            s.push_str(more);
            self.bump();
        }
        self.mk(Kind::Const(Value::String(s)), start..self.prev_end())
    }

    fn name(&mut self) -> PResult<Node> {
        let name = match self.tok() {
            Tok::Name(n) => n.clone(),
            _ => String::new(),
        };
        let r = self.bump();
        self.mk(Kind::Name(name), r)
    }

    fn constant(&mut self) -> PResult<Node> {
        let v = match self.tok() {
            Tok::Kw(Kw::True) => Value::Bool(true),
            Tok::Kw(Kw::False) => Value::Bool(false),
            _ => Value::Null,
        };
        let r = self.bump();
        self.mk(Kind::Const(v), r)
    }

    fn not(&mut self) -> PResult<Node> {
        let r = self.bump();
        let start = r.start;
        let operand = self.operand("not", r, bp::NOT)?;
        self.mk(Kind::Not(Box::new(operand)), start..self.prev_end())
    }

    fn unary(&mut self) -> PResult<Node> {
        let neg = self.is_p(P::Minus);
        let r = self.bump();
        let start = r.start;
        let operand = self.operand(if neg { "-" } else { "+" }, r, bp::UNARY)?;
        let range = start..self.prev_end();
        if neg && let Some(folded) = self.fold_negative(&operand) {
            return self.mk(Kind::Const(folded), range);
        }
        let op = if neg { UnaryOp::Neg } else { UnaryOp::Pos };
        self.mk(
            Kind::Unary {
                op,
                operand: Box::new(operand),
            },
            range,
        )
    }

    /// `-<number literal>` becomes a constant, which is how `-9223372036854775808` and
    /// `xs[-1]` in [`Expr::as_path`](super::Expr::as_path) work.
    fn fold_negative(&mut self, operand: &Node) -> Option<Value> {
        let Kind::Const(Value::Number(n)) = &operand.kind else {
            return None;
        };
        if let Some(i) = n.as_i64() {
            return i.checked_neg().map(Value::from);
        }
        if let Some(u) = n.as_u64() {
            if u == 1u64 << 63 {
                self.big_ints.retain(|r| *r != operand.range);
                return Some(Value::from(i64::MIN));
            }
            return None;
        }
        n.as_f64().map(|f| Value::from(-f))
    }

    fn lambda(&mut self) -> PResult<Node> {
        let start = self.bump().start;
        let mut params: Vec<(String, Range<usize>)> = Vec::new();
        loop {
            match self.tok().clone() {
                Tok::P(P::Colon) => break,
                Tok::Name(n) => {
                    let r = self.bump();
                    if params.iter().any(|(p, _)| *p == n) {
                        return Err(SyntaxError::new(
                            format!("duplicate parameter `{n}` in `lambda`"),
                            r,
                        ));
                    }
                    params.push((n, r));
                    if self.is_p(P::Assign) {
                        return Err(SyntaxError::new(
                            "default values in `lambda` are not supported",
                            self.range(),
                        ));
                    }
                    if !self.eat_p(P::Comma) && !self.is_p(P::Colon) {
                        return Err(SyntaxError::new(
                            format!("expected `,` or `:` in `lambda`, found {}", self.describe()),
                            self.range(),
                        ));
                    }
                }
                Tok::P(P::Star) | Tok::P(P::DoubleStar) => {
                    return Err(SyntaxError::new(
                        "`*` parameters in `lambda` are not supported",
                        self.range(),
                    ));
                }
                _ => {
                    return Err(SyntaxError::new(
                        format!(
                            "expected a parameter name or `:` in `lambda`, found {}",
                            self.describe()
                        ),
                        self.range(),
                    ));
                }
            }
        }
        let colon = self.bump();
        let body = self.operand(":", colon, 0)?;
        self.mk(
            Kind::Lambda {
                params,
                body: Box::new(body),
            },
            start..self.prev_end(),
        )
    }

    fn paren(&mut self) -> PResult<Node> {
        let open = self.bump();
        if self.eat_p(P::RParen) {
            return self.mk(Kind::List(Vec::new()), open.start..self.prev_end());
        }
        let first = self.operand("(", open.clone(), 0)?;
        if self.is_kw(Kw::For) {
            let gens = self.generators()?;
            self.close(P::RParen, &open, "`)`")?;
            let kind = Kind::ListComp {
                elt: Box::new(first),
                gens,
            };
            return self.mk(kind, open.start..self.prev_end());
        }
        if !self.is_p(P::Comma) {
            self.close(P::RParen, &open, "`)`")?;
            return Ok(first);
        }
        // A tuple; evaluated as a list.
        let mut items = vec![first];
        while self.eat_p(P::Comma) {
            if self.is_p(P::RParen) {
                break;
            }
            items.push(self.item(&open, "`,` or `)`")?);
        }
        self.close(P::RParen, &open, "`,` or `)`")?;
        self.mk(Kind::List(items), open.start..self.prev_end())
    }

    /// One element of a bracketed list; reports an unclosed bracket at end of input.
    fn item(&mut self, open: &Range<usize>, what: &str) -> PResult<Node> {
        if self.at_eof() {
            let o = &self.src[open.clone()];
            return Err(SyntaxError::new(format!("unclosed `{o}`"), open.clone()));
        }
        if !self.starts_expr() {
            if matches!(self.tok(), Tok::P(P::Star) | Tok::P(P::DoubleStar)) {
                return Err(self.unexpected_unpack());
            }
            return Err(SyntaxError::new(
                format!("expected {what}, found {}", self.describe()),
                self.range(),
            ));
        }
        self.expr(0)
    }

    fn unexpected_unpack(&self) -> SyntaxError {
        SyntaxError::new(
            format!("`{}` unpacking is not supported", &self.src[self.range()]),
            self.range(),
        )
    }

    fn list(&mut self) -> PResult<Node> {
        let open = self.bump();
        if self.eat_p(P::RBracket) {
            return self.mk(Kind::List(Vec::new()), open.start..self.prev_end());
        }
        let first = self.item(&open, "an expression or `]`")?;
        if self.is_kw(Kw::For) {
            let gens = self.generators()?;
            self.close(P::RBracket, &open, "`]`")?;
            let kind = Kind::ListComp {
                elt: Box::new(first),
                gens,
            };
            return self.mk(kind, open.start..self.prev_end());
        }
        let mut items = vec![first];
        while self.eat_p(P::Comma) {
            if self.is_p(P::RBracket) {
                break;
            }
            items.push(self.item(&open, "an expression or `]`")?);
        }
        self.close(P::RBracket, &open, "`,` or `]`")?;
        self.mk(Kind::List(items), open.start..self.prev_end())
    }

    fn dict(&mut self) -> PResult<Node> {
        let open = self.bump();
        if self.eat_p(P::RBrace) {
            return self.mk(Kind::Dict(Vec::new()), open.start..self.prev_end());
        }
        let mut pairs = Vec::new();
        loop {
            let key = self.item(&open, "a key or `}`")?;
            if !self.is_p(P::Colon) {
                if matches!(self.tok(), Tok::P(P::Comma | P::RBrace) | Tok::Kw(Kw::For)) {
                    return Err(SyntaxError::new("set literals are not supported", open));
                }
                return Err(SyntaxError::new(
                    format!("expected `:` after a dict key, found {}", self.describe()),
                    self.range(),
                ));
            }
            let colon = self.bump();
            let value = self.operand(":", colon, 0)?;
            if pairs.is_empty() && self.is_kw(Kw::For) {
                let gens = self.generators()?;
                self.close(P::RBrace, &open, "`}`")?;
                let kind = Kind::DictComp {
                    key: Box::new(key),
                    value: Box::new(value),
                    gens,
                };
                return self.mk(kind, open.start..self.prev_end());
            }
            pairs.push((key, value));
            if !self.eat_p(P::Comma) || self.is_p(P::RBrace) {
                break;
            }
        }
        self.close(P::RBrace, &open, "`,` or `}`")?;
        self.mk(Kind::Dict(pairs), open.start..self.prev_end())
    }

    /// `for x in xs if c for y in ys ...`, at least one `for`.
    fn generators(&mut self) -> PResult<Vec<Generator>> {
        let mut gens = Vec::new();
        while self.is_kw(Kw::For) {
            let for_range = self.bump();
            let (targets, unpack) = self.targets(&for_range)?;
            if !self.is_kw(Kw::In) {
                return Err(SyntaxError::new(
                    format!(
                        "expected `in` after the loop variables, found {}",
                        self.describe()
                    ),
                    self.range(),
                ));
            }
            let in_range = self.bump();
            let iter = self.operand("in", in_range, bp::OR)?;
            let mut ifs = Vec::new();
            while self.is_kw(Kw::If) {
                let if_range = self.bump();
                ifs.push(self.operand("if", if_range, bp::OR)?);
            }
            gens.push(Generator {
                targets,
                unpack,
                iter,
                ifs,
            });
        }
        Ok(gens)
    }

    /// Loop variables: `x`, `k, v`, `(k, v)`.
    fn targets(&mut self, for_range: &Range<usize>) -> PResult<Targets> {
        let paren = self.is_p(P::LParen);
        let open = self.range();
        if paren {
            self.bump();
        }
        let mut targets: Vec<(String, Range<usize>)> = Vec::new();
        let mut unpack = paren;
        loop {
            match self.tok().clone() {
                Tok::Name(n) => {
                    let r = self.bump();
                    if targets.iter().any(|(t, _)| *t == n) {
                        return Err(SyntaxError::new(
                            format!("duplicate loop variable `{n}`"),
                            r,
                        ));
                    }
                    targets.push((n, r));
                }
                _ => {
                    return Err(SyntaxError::new(
                        format!(
                            "expected a loop variable after `for`, found {}",
                            self.describe()
                        ),
                        if self.at_eof() {
                            for_range.clone()
                        } else {
                            self.range()
                        },
                    ));
                }
            }
            if self.eat_p(P::Comma) {
                unpack = true;
                if matches!(self.tok(), Tok::Name(_)) {
                    continue;
                }
            }
            break;
        }
        if paren {
            self.close(P::RParen, &open, "`)`")?;
        }
        Ok((targets, unpack))
    }

    fn attribute(&mut self, lhs: Node, start: usize, _: Next) -> PResult<Node> {
        let dot = self.bump();
        let name = match self.tok() {
            Tok::Name(n) => n.clone(),
            // Keys that happen to be Python keywords (`data.for`) are still readable.
            Tok::Kw(k) => k.as_str().to_string(),
            _ => {
                return Err(SyntaxError::new(
                    "expected an attribute name after `.`",
                    dot,
                ));
            }
        };
        self.bump();
        self.mk(
            Kind::Attr {
                obj: Box::new(lhs),
                name,
            },
            start..self.prev_end(),
        )
    }

    fn call(&mut self, func: Node, start: usize, _: Next) -> PResult<Node> {
        let open = self.bump();
        let mut args: Vec<Node> = Vec::new();
        let mut kwargs: Vec<Kwarg> = Vec::new();
        while !self.eat_p(P::RParen) {
            self.call_arg(&open, &mut args, &mut kwargs)?;
        }
        let kind = Kind::Call {
            func: Box::new(func),
            args,
            kwargs,
        };
        self.mk(kind, start..self.prev_end())
    }

    /// One argument of a call and the `,` after it.
    fn call_arg(
        &mut self,
        open: &Range<usize>,
        args: &mut Vec<Node>,
        kwargs: &mut Vec<Kwarg>,
    ) -> PResult<()> {
        if self.at_eof() {
            return Err(SyntaxError::new("unclosed `(`", open.clone()));
        }
        if matches!(self.tok(), Tok::P(P::Star) | Tok::P(P::DoubleStar)) {
            return Err(self.unexpected_unpack());
        }
        if matches!(self.tok(), Tok::Name(_)) && *self.tok_at(1) == Tok::P(P::Assign) {
            let kwarg = self.kwarg(kwargs)?;
            kwargs.push(kwarg);
        } else {
            let arg_start = self.range().start;
            let arg = self.item(open, "an argument or `)`")?;
            if !kwargs.is_empty() {
                return Err(SyntaxError::new(
                    "positional argument follows keyword argument",
                    arg_start..self.prev_end(),
                ));
            }
            if self.is_kw(Kw::For) {
                // `f(x for x in xs)`: a generator, evaluated as a list.
                let comp = self.generator_arg(arg, arg_start)?;
                if !args.is_empty() || !self.is_p(P::RParen) {
                    return Err(SyntaxError::new(
                        "generator expression must be parenthesized",
                        comp.range,
                    ));
                }
                args.push(comp);
                return Ok(());
            }
            args.push(arg);
        }
        if !self.eat_p(P::Comma) && !self.is_p(P::RParen) {
            return Err(self.bad_call_separator(open));
        }
        Ok(())
    }

    fn kwarg(&mut self, kwargs: &[Kwarg]) -> PResult<Kwarg> {
        let name = match self.tok() {
            Tok::Name(n) => n.clone(),
            _ => String::new(),
        };
        let name_range = self.bump();
        let eq = self.bump();
        if kwargs.iter().any(|k| k.name == name) {
            return Err(SyntaxError::new(
                format!("duplicate keyword argument `{name}`"),
                name_range,
            ));
        }
        let value = self.operand("=", eq, 0)?;
        Ok(Kwarg {
            name,
            name_range,
            value,
        })
    }

    fn generator_arg(&mut self, elt: Node, start: usize) -> PResult<Node> {
        let gens = self.generators()?;
        let kind = Kind::ListComp {
            elt: Box::new(elt),
            gens,
        };
        self.mk(kind, start..self.prev_end())
    }

    #[cold]
    fn bad_call_separator(&self, open: &Range<usize>) -> SyntaxError {
        if self.at_eof() {
            SyntaxError::new("unclosed `(`", open.clone())
        } else {
            SyntaxError::new(
                format!("expected `,` or `)` in call, found {}", self.describe()),
                self.range(),
            )
        }
    }

    fn subscript(&mut self, obj: Node, start: usize, _: Next) -> PResult<Node> {
        let open = self.bump();
        if self.is_p(P::RBracket) {
            return Err(SyntaxError::new(
                "expected an index or slice inside `[]`",
                open.start..self.range().end,
            ));
        }
        let lo = if self.is_p(P::Colon) {
            None
        } else {
            Some(self.item(&open, "an index")?)
        };
        if !self.is_p(P::Colon) {
            let Some(index) = lo else {
                return Err(self.unexpected());
            };
            self.close(P::RBracket, &open, "`]`")?;
            let kind = Kind::Index {
                obj: Box::new(obj),
                index: Box::new(index),
            };
            return self.mk(kind, start..self.prev_end());
        }
        self.bump();
        let bound = |p: &mut Self| -> PResult<Option<Box<Node>>> {
            if p.is_p(P::Colon) || p.is_p(P::RBracket) {
                Ok(None)
            } else {
                Ok(Some(Box::new(p.item(&open, "a slice bound or `]`")?)))
            }
        };
        let hi = bound(self)?;
        let step = if self.eat_p(P::Colon) {
            bound(self)?
        } else {
            None
        };
        self.close(P::RBracket, &open, "`]`")?;
        let kind = Kind::Slice {
            obj: Box::new(obj),
            lo: lo.map(Box::new),
            hi,
            step,
        };
        self.mk(kind, start..self.prev_end())
    }
}

#[cfg(test)]
mod tests {
    use super::super::Expr;
    use super::*;

    /// A compact S-expression rendering of the tree, to check precedence.
    fn sexp(n: &Node) -> String {
        match &n.kind {
            Kind::Const(v) => v.to_string(),
            Kind::Name(s) => s.clone(),
            Kind::Attr { obj, name } => format!("(. {} {name})", sexp(obj)),
            Kind::Index { obj, index } => format!("([] {} {})", sexp(obj), sexp(index)),
            Kind::Slice { obj, lo, hi, step } => {
                let b = |x: &Option<Box<Node>>| x.as_ref().map_or("_".to_string(), |n| sexp(n));
                format!("([:] {} {} {} {})", sexp(obj), b(lo), b(hi), b(step))
            }
            Kind::Call { func, args, kwargs } => {
                let mut s = format!("(call {}", sexp(func));
                for a in args {
                    s.push(' ');
                    s.push_str(&sexp(a));
                }
                for k in kwargs {
                    s.push_str(&format!(" {}={}", k.name, sexp(&k.value)));
                }
                s + ")"
            }
            Kind::List(items) => {
                format!("[{}]", items.iter().map(sexp).collect::<Vec<_>>().join(" "))
            }
            Kind::Dict(pairs) => format!(
                "{{{}}}",
                pairs
                    .iter()
                    .map(|(k, v)| format!("{}:{}", sexp(k), sexp(v)))
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
            Kind::Unary { op, operand } => {
                format!(
                    "({} {})",
                    if *op == UnaryOp::Neg { "neg" } else { "pos" },
                    sexp(operand)
                )
            }
            Kind::Binary { op, lhs, rhs } => {
                format!("({} {} {})", op.as_str(), sexp(lhs), sexp(rhs))
            }
            Kind::And(a, b) => format!("(and {} {})", sexp(a), sexp(b)),
            Kind::Or(a, b) => format!("(or {} {})", sexp(a), sexp(b)),
            Kind::Not(a) => format!("(not {})", sexp(a)),
            Kind::Compare { first, rest } => {
                let mut s = format!("(cmp {}", sexp(first));
                for (op, n) in rest {
                    s.push_str(&format!(" {} {}", op.as_str(), sexp(n)));
                }
                s + ")"
            }
            Kind::IfElse { then, cond, orelse } => {
                format!("(if {} {} {})", sexp(cond), sexp(then), sexp(orelse))
            }
            Kind::ListComp { elt, gens } => format!("(listcomp {}{})", sexp(elt), gens_s(gens)),
            Kind::DictComp { key, value, gens } => {
                format!("(dictcomp {}:{}{})", sexp(key), sexp(value), gens_s(gens))
            }
            Kind::Lambda { params, body } => format!(
                "(lambda {} {})",
                params
                    .iter()
                    .map(|(p, _)| p.as_str())
                    .collect::<Vec<_>>()
                    .join(","),
                sexp(body)
            ),
        }
    }

    fn gens_s(gens: &[Generator]) -> String {
        let mut s = String::new();
        for g in gens {
            let t: Vec<&str> = g.targets.iter().map(|(t, _)| t.as_str()).collect();
            s.push_str(&format!(" for {} in {}", t.join(","), sexp(&g.iter)));
            for c in &g.ifs {
                s.push_str(&format!(" if {}", sexp(c)));
            }
        }
        s
    }

    fn p(src: &str) -> String {
        match Expr::parse(src) {
            Ok(e) => sexp(&e.root),
            Err(e) => panic!("{src:?}: {e:?}"),
        }
    }

    fn perr(src: &str) -> (String, Range<usize>) {
        match Expr::parse(src) {
            Ok(e) => panic!("{src:?} parsed: {}", sexp(&e.root)),
            Err(e) => (e.message, e.range),
        }
    }

    #[test]
    fn precedence_table() {
        let cases = [
            ("1 + 2 * 3", "(+ 1 (* 2 3))"),
            ("(1 + 2) * 3", "(* (+ 1 2) 3)"),
            ("1 - 2 - 3", "(- (- 1 2) 3)"),
            ("2 ** 3 ** 2", "(** 2 (** 3 2))"),
            ("-2 ** 2", "(neg (** 2 2))"),
            ("2 ** -1", "(** 2 -1)"),
            ("-x * y", "(* (neg x) y)"),
            ("- 1", "-1"),
            ("+1", "(pos 1)"),
            ("a or b and c", "(or a (and b c))"),
            ("not a == b", "(not (cmp a == b))"),
            ("not a and b", "(and (not a) b)"),
            ("a < b < c", "(cmp a < b < c)"),
            ("a not in b", "(cmp a not in b)"),
            ("a is not None", "(cmp a is not null)"),
            ("a + 1 == b * 2", "(cmp (+ a 1) == (* b 2))"),
            ("x if c else y", "(if c x y)"),
            ("a if b else c if d else e", "(if b a (if d c e))"),
            ("a or b if c or d else e", "(if (or c d) (or a b) e)"),
            ("10 * 5 / 2", "(/ (* 10 5) 2)"),
            ("7 // 2 % 3", "(% (// 7 2) 3)"),
            ("a.b.c", "(. (. a b) c)"),
            ("a[0]['k']", "([] ([] a 0) \"k\")"),
            ("a[-1]", "([] a -1)"),
            ("a[1:3]", "([:] a 1 3 _)"),
            ("a[:2]", "([:] a _ 2 _)"),
            ("a[::-1]", "([:] a _ _ -1)"),
            ("a[1:]", "([:] a 1 _ _)"),
            ("f(x, 'lit', 2)", "(call f x \"lit\" 2)"),
            ("x.get('k', 'd')", "(call (. x get) \"k\" \"d\")"),
            (
                "sorted(xs, key=lambda a: -a, reverse=True)",
                "(call sorted xs key=(lambda a (neg a)) reverse=true)",
            ),
            ("[1, 2,]", "[1 2]"),
            ("(1, 2)", "[1 2]"),
            ("(1,)", "[1]"),
            ("()", "[]"),
            ("{'a': 1, 'b': [2]}", "{\"a\":1 \"b\":[2]}"),
            ("{}", "{}"),
            (
                "[s for s in xs if s.ok == 'true']",
                "(listcomp s for s in xs if (cmp (. s ok) == \"true\"))",
            ),
            (
                "[k for k, v in d.items()]",
                "(listcomp k for k,v in (call (. d items)))",
            ),
            (
                "[a for (a, b) in xs for c in a if c]",
                "(listcomp a for a,b in xs for c in a if c)",
            ),
            (
                "{k: v for k, v in d.items()}",
                "(dictcomp k:v for k,v in (call (. d items)))",
            ),
            (
                "any(x > 1 for x in xs)",
                "(call any (listcomp (cmp x > 1) for x in xs))",
            ),
            (
                "[x for x in xs if a if b]",
                "(listcomp x for x in xs if a if b)",
            ),
            ("lambda: 1", "(lambda  1)"),
            ("lambda a, b: a + b", "(lambda a,b (+ a b))"),
            ("'a' 'b'", "\"ab\""),
            ("-9223372036854775808", "-9223372036854775808"),
            ("data.for", "(. data for)"),
            (
                "function.m.f(a)(b)",
                "(call (call (. (. function m) f) a) b)",
            ),
            ("not not x", "(not (not x))"),
            ("a == not b", "(cmp a == (not b))"),
        ];
        for (src, want) in cases {
            assert_eq!(p(src), want, "{src}");
        }
    }

    #[test]
    fn node_ranges_cover_parentheses() {
        let e = Expr::parse("(a).b + c").unwrap_or_else(|e| panic!("{e}"));
        let Kind::Binary { lhs, .. } = &e.root.kind else {
            panic!("not binary")
        };
        assert_eq!(&e.src[lhs.range.clone()], "(a).b");
        assert_eq!(e.root.range, 0..9);
    }

    #[test]
    fn syntax_errors() {
        let cases: &[(&str, &str, Range<usize>)] = &[
            ("1 +", "expected an expression after `+`", 2..3),
            ("1 + )", "expected an expression after `+`", 2..3),
            ("f(1))", "unexpected `)`", 4..5),
            (")", "unexpected `)`", 0..1),
            ("", "expected an expression", 0..0),
            ("   ", "expected an expression", 0..3),
            ("(1 + 2", "unclosed `(`", 0..1),
            ("[1, 2", "unclosed `[`", 0..1),
            ("{'a': 1", "unclosed `{`", 0..1),
            ("f(1, 2", "unclosed `(`", 1..2),
            ("(1 2)", "expected `)`, found `2`", 3..4),
            ("[1 2]", "expected `,` or `]`, found `2`", 3..4),
            ("f(1 2)", "expected `,` or `)` in call, found `2`", 4..5),
            ("a b", "unexpected `b`", 2..3),
            ("a = 1", "unexpected `=`, use `==` to compare values", 2..3),
            (
                "x if y",
                "expected `else` in conditional expression, found end of expression",
                6..6,
            ),
            ("x if", "expected an expression after `if`", 2..4),
            ("a.", "expected an attribute name after `.`", 1..2),
            ("a.1", "unexpected `.1`", 1..3),
            ("a[]", "expected an index or slice inside `[]`", 1..3),
            ("{1, 2}", "set literals are not supported", 0..1),
            ("{1}", "set literals are not supported", 0..1),
            (
                "f(a=1, b)",
                "positional argument follows keyword argument",
                7..8,
            ),
            ("f(a=1, a=2)", "duplicate keyword argument `a`", 7..8),
            ("f(*xs)", "`*` unpacking is not supported", 2..3),
            ("f(**kw)", "`**` unpacking is not supported", 2..4),
            (
                "[x for in xs]",
                "expected a loop variable after `for`, found `in`",
                7..9,
            ),
            (
                "[x for x xs]",
                "expected `in` after the loop variables, found `xs`",
                9..11,
            ),
            ("[x for x, x in y]", "duplicate loop variable `x`", 10..11),
            (
                "lambda x=1: x",
                "default values in `lambda` are not supported",
                8..9,
            ),
            (
                "lambda x, x: x",
                "duplicate parameter `x` in `lambda`",
                10..11,
            ),
            (
                "1 + lambda: 2",
                "`lambda` must be parenthesized here",
                4..10,
            ),
            ("9223372036854775808", "integer literal too large", 0..19),
            (
                "f(x for x in y, 1)",
                "generator expression must be parenthesized",
                2..14,
            ),
            ("not", "expected an expression after `not`", 0..3),
            ("a not b", "unexpected `not`", 2..5),
            ("'abc", "unterminated string literal", 0..1),
            ("x.y(", "unclosed `(`", 3..4),
        ];
        for (src, msg, range) in cases {
            assert_eq!(perr(src), (msg.to_string(), range.clone()), "{src:?}");
        }
    }

    #[test]
    fn nesting_is_bounded() {
        for open in ["(", "[", "-", "not ", "f(", "{'a':", "[x for x in "] {
            let src = open.repeat(10_000);
            assert_eq!(perr(&src).0, TOO_DEEP, "{open}");
        }
        let chain = format!("a{}", ".b".repeat(10_000));
        assert_eq!(perr(&chain).0, TOO_DEEP);
        let sum = vec!["1"; 10_000].join("+");
        assert_eq!(perr(&sum).0, TOO_DEEP);
        let pow = vec!["2"; 10_000].join("**");
        assert_eq!(perr(&pow).0, TOO_DEEP);
        let calls = format!("f{}", "(1)".repeat(10_000));
        assert_eq!(perr(&calls).0, TOO_DEEP);
        let idx = format!("a{}", "[0]".repeat(10_000));
        assert_eq!(perr(&idx).0, TOO_DEEP);
        // Reasonable nesting still parses.
        let ok = format!("{}1{}", "(".repeat(50), ")".repeat(50));
        assert_eq!(p(&ok), "1");
        let ok = format!("a{}", ".b".repeat(99));
        assert!(Expr::parse(&ok).is_ok());
        let too_deep = format!("a{}", ".b".repeat(100));
        assert_eq!(perr(&too_deep), (TOO_DEEP.to_string(), 0..201));
    }
}
