//! Typed surfaces: `f(x, y)` parsed once into a tree, folded, compiled to a flat stack program,
//! and evaluated either for the value alone or with forward-mode dual numbers `(v, dv/dx, dv/dy)`
//! for the exact gradient (automatic differentiation; never finite differences).
//!
//! Grammar (usual precedence; `^` binds tighter than unary minus and is right-associative, so
//! `-x^2 = -(x^2)` and `2^-x` works; `**` is accepted for `^`):
//!
//! ```text
//! expr  := term (('+' | '-') term)*
//! term  := unary (('*' | '/') unary)*
//! unary := ('-' | '+') unary | power
//! power := atom ('^' unary)?
//! atom  := number | 'x' | 'y' | 'pi' | 'e' | 'tau' | parameter
//!        | function '(' expr (',' expr)* ')' | '(' expr ')'
//! ```
//!
//! Any other name is a user parameter (default 1). At kinks the subgradient convention of the
//! built-in surfaces applies: `abs'(0) = 0`, `sign' = 0`, `min`/`max` follow the chosen branch.

use crate::lanes::{Real, V2};
use glam::DVec2;
use std::fmt;

/// Longest formula accepted, in characters.
pub const MAX_LEN: usize = 2000;
/// Deepest nesting of parentheses, calls and operators accepted.
pub const MAX_DEPTH: usize = 40;
/// Most user parameters in one formula.
pub const MAX_PARAMS: usize = 8;
/// Longest parameter name.
pub const MAX_NAME: usize = 16;
/// Evaluation stack size: nesting is bounded by `MAX_DEPTH`, so the stack is too (a formula
/// that would need more is refused).
const STACK: usize = 96;

/// A parse error, with the 1-based column (in characters) where it was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FormulaError {
    pub column: usize,
    pub message: String,
}

impl fmt::Display for FormulaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "column {}: {}", self.column, self.message)
    }
}

impl std::error::Error for FormulaError {}

fn err<T>(column: usize, message: impl Into<String>) -> Result<T, FormulaError> {
    Err(FormulaError {
        column,
        message: message.into(),
    })
}

/// One-argument functions (and unary operators).
#[derive(Clone, Copy, Debug, PartialEq)]
enum F1 {
    Neg,
    Sin,
    Cos,
    Tan,
    Asin,
    Acos,
    Atan,
    Sinh,
    Cosh,
    Tanh,
    Exp,
    Ln,
    Log2,
    Log10,
    Sqrt,
    Cbrt,
    Abs,
    Sign,
    Square,
    PowI(i32),
}

/// Two-argument functions and binary operators.
#[derive(Clone, Copy, Debug, PartialEq)]
enum F2 {
    Add,
    Sub,
    Mul,
    Div,
    Pow,
    Min,
    Max,
    Atan2,
    Hypot,
}

/// What a function name builds: a one-argument function, or a two-argument one (`Fold`: two or
/// more arguments, folded left).
#[derive(Clone, Copy, Debug, PartialEq)]
enum Call {
    One(F1),
    Two(F2),
    Fold(F2),
}

/// The functions a formula may call: the one table the parser, the help texts and the error
/// messages read.
const FUNCTIONS: &[(&str, Call)] = &[
    ("sin", Call::One(F1::Sin)),
    ("cos", Call::One(F1::Cos)),
    ("tan", Call::One(F1::Tan)),
    ("asin", Call::One(F1::Asin)),
    ("acos", Call::One(F1::Acos)),
    ("atan", Call::One(F1::Atan)),
    ("sinh", Call::One(F1::Sinh)),
    ("cosh", Call::One(F1::Cosh)),
    ("tanh", Call::One(F1::Tanh)),
    ("exp", Call::One(F1::Exp)),
    ("log", Call::One(F1::Ln)),
    ("ln", Call::One(F1::Ln)),
    ("log2", Call::One(F1::Log2)),
    ("log10", Call::One(F1::Log10)),
    ("sqrt", Call::One(F1::Sqrt)),
    ("cbrt", Call::One(F1::Cbrt)),
    ("abs", Call::One(F1::Abs)),
    ("sign", Call::One(F1::Sign)),
    ("pow", Call::Two(F2::Pow)),
    ("atan2", Call::Two(F2::Atan2)),
    ("hypot", Call::Two(F2::Hypot)),
    ("min", Call::Fold(F2::Min)),
    ("max", Call::Fold(F2::Max)),
];

/// The names a formula can use that are not parameters.
pub const RESERVED: &[&str] = &["x", "y", "pi", "e", "tau"];

/// Every function name, for help texts.
pub fn function_names() -> impl Iterator<Item = &'static str> {
    FUNCTIONS.iter().map(|f| f.0)
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Num(f64),
    Name(String),
    Sym(char),
    End,
}

/// Splits the text into tokens with their 1-based columns.
fn lex(src: &str) -> Result<Vec<(Tok, usize)>, FormulaError> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let col = i + 1;
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_digit()
            || (c == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit))
        {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            // An exponent only when digits follow: `2e3`, `1.5e-2`; `2e` is `2` then `e`.
            if i < chars.len() && (chars[i] == 'e' || chars[i] == 'E') {
                let mut j = i + 1;
                if j < chars.len() && (chars[j] == '+' || chars[j] == '-') {
                    j += 1;
                }
                if j < chars.len() && chars[j].is_ascii_digit() {
                    while j < chars.len() && chars[j].is_ascii_digit() {
                        j += 1;
                    }
                    i = j;
                }
            }
            let text: String = chars[start..i].iter().collect();
            match text.parse::<f64>() {
                Ok(v) if v.is_finite() => out.push((Tok::Num(v), col)),
                Ok(_) => return err(col, format!("number '{text}' is too large")),
                Err(_) => return err(col, format!("'{text}' is not a number")),
            }
        } else if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push((Tok::Name(chars[start..i].iter().collect()), col));
        } else if c == '*' && chars.get(i + 1) == Some(&'*') {
            out.push((Tok::Sym('^'), col));
            i += 2;
        } else if "+-*/^(),".contains(c) {
            out.push((Tok::Sym(c), col));
            i += 1;
        } else {
            return err(col, format!("unexpected character '{c}'"));
        }
    }
    out.push((Tok::End, chars.len() + 1));
    Ok(out)
}

/// The parsed, constant-folded expression.
#[derive(Clone, Debug, PartialEq)]
enum Node {
    X,
    Y,
    Num(f64),
    Param(usize),
    Un(F1, Box<Node>),
    Bin(F2, Box<Node>, Box<Node>),
}

fn un(f: F1, a: Node) -> Node {
    match a {
        Node::Num(v) => Node::Num(apply1(f, v)),
        a => Node::Un(f, Box::new(a)),
    }
}

fn bin(f: F2, a: Node, b: Node) -> Node {
    match (a, b) {
        (Node::Num(u), Node::Num(v)) => Node::Num(apply2(f, u, v)),
        // Integer powers: exact squares and `powi`, with the simple derivative.
        (a, Node::Num(n)) if f == F2::Pow && n == n.trunc() && n.abs() <= 64.0 => match n as i32 {
            1 => a,
            2 => un(F1::Square, a),
            k => un(F1::PowI(k), a),
        },
        (a, b) => Node::Bin(f, Box::new(a), Box::new(b)),
    }
}

struct Parser {
    toks: Vec<(Tok, usize)>,
    at: usize,
    depth: usize,
    params: Vec<String>,
}

impl Parser {
    fn peek(&self) -> &Tok {
        &self.toks[self.at].0
    }

    fn col(&self) -> usize {
        self.toks[self.at].1
    }

    fn bump(&mut self) -> (Tok, usize) {
        let t = self.toks[self.at].clone();
        if self.at + 1 < self.toks.len() {
            self.at += 1;
        }
        t
    }

    /// Every recursion of the parser passes through `unary`, which counts the nesting here.
    fn enter(&mut self) -> Result<(), FormulaError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return err(
                self.col(),
                format!("the formula is nested too deeply (the limit is {MAX_DEPTH} levels)"),
            );
        }
        Ok(())
    }

    fn expr(&mut self) -> Result<Node, FormulaError> {
        let mut a = self.term()?;
        loop {
            let f = match self.peek() {
                Tok::Sym('+') => F2::Add,
                Tok::Sym('-') => F2::Sub,
                _ => break,
            };
            self.bump();
            let b = self.term()?;
            a = bin(f, a, b);
        }
        Ok(a)
    }

    fn term(&mut self) -> Result<Node, FormulaError> {
        let mut a = self.unary()?;
        loop {
            let f = match self.peek() {
                Tok::Sym('*') => F2::Mul,
                Tok::Sym('/') => F2::Div,
                _ => break,
            };
            self.bump();
            let b = self.unary()?;
            a = bin(f, a, b);
        }
        Ok(a)
    }

    fn unary(&mut self) -> Result<Node, FormulaError> {
        self.enter()?;
        let node = match self.peek() {
            Tok::Sym('-') => {
                self.bump();
                un(F1::Neg, self.unary()?)
            }
            Tok::Sym('+') => {
                self.bump();
                self.unary()?
            }
            _ => self.power()?,
        };
        self.depth -= 1;
        Ok(node)
    }

    fn power(&mut self) -> Result<Node, FormulaError> {
        let base = self.atom()?;
        if self.peek() == &Tok::Sym('^') {
            self.bump();
            let exp = self.unary()?;
            return Ok(bin(F2::Pow, base, exp));
        }
        Ok(base)
    }

    fn atom(&mut self) -> Result<Node, FormulaError> {
        let (tok, col) = self.bump();
        let node = match tok {
            Tok::Num(v) => Node::Num(v),
            Tok::Sym('(') => {
                let inner = self.expr()?;
                self.expect(')', col)?;
                inner
            }
            Tok::Name(name) => self.name(name, col)?,
            Tok::End => return err(col, "the formula ends where a value was expected"),
            Tok::Sym(c) => return err(col, format!("expected a value, found '{c}'")),
        };
        // A value directly followed by another value: `2x`, `x y`, `(x)(y)`.
        match self.peek() {
            Tok::Num(_) | Tok::Name(_) | Tok::Sym('(') => err(
                self.col(),
                "expected an operator here (write multiplication as '*')",
            ),
            _ => Ok(node),
        }
    }

    fn expect(&mut self, c: char, open: usize) -> Result<(), FormulaError> {
        match self.peek() {
            Tok::Sym(d) if *d == c => {
                self.bump();
                Ok(())
            }
            Tok::End => err(
                self.col(),
                format!("missing '{c}' (to close the one at column {open})"),
            ),
            Tok::Sym(d) => err(self.col(), format!("expected '{c}', found '{d}'")),
            _ => err(self.col(), format!("expected '{c}' or an operator")),
        }
    }

    fn name(&mut self, name: String, col: usize) -> Result<Node, FormulaError> {
        let call = self.peek() == &Tok::Sym('(');
        if let Some(&(_, what)) = FUNCTIONS.iter().find(|f| f.0 == name) {
            if !call {
                return err(col, format!("'{name}' is a function: write {name}(...)"));
            }
            let (_, open) = self.bump();
            let mut args = vec![self.expr()?];
            while self.peek() == &Tok::Sym(',') {
                self.bump();
                args.push(self.expr()?);
            }
            self.expect(')', open)?;
            let n = args.len();
            let wrong = |k: usize| {
                err(
                    col,
                    format!(
                        "{name}() takes {k} argument{}, got {n}",
                        if k == 1 { "" } else { "s" }
                    ),
                )
            };
            let mut it = args.into_iter();
            return match (what, it.next(), it.next()) {
                (Call::One(f), Some(a), None) => Ok(un(f, a)),
                (Call::One(_), ..) => wrong(1),
                (Call::Two(f), Some(a), Some(b)) if n == 2 => Ok(bin(f, a, b)),
                (Call::Two(_), ..) => wrong(2),
                (Call::Fold(f), Some(a), Some(b)) => {
                    Ok(it.fold(bin(f, a, b), |acc, c| bin(f, acc, c)))
                }
                (Call::Fold(_), ..) => err(col, format!("{name}() takes two or more arguments")),
            };
        }
        if call {
            return err(
                col,
                format!(
                    "unknown function '{name}' (known: {})",
                    function_names().collect::<Vec<_>>().join(", ")
                ),
            );
        }
        Ok(match name.as_str() {
            "x" => Node::X,
            "y" => Node::Y,
            "pi" => Node::Num(std::f64::consts::PI),
            "e" => Node::Num(std::f64::consts::E),
            "tau" => Node::Num(std::f64::consts::TAU),
            _ => {
                if name.chars().count() > MAX_NAME {
                    return err(
                        col,
                        format!("parameter names are at most {MAX_NAME} characters"),
                    );
                }
                let i = match self.params.iter().position(|p| *p == name) {
                    Some(i) => i,
                    None => {
                        if self.params.len() == MAX_PARAMS {
                            return err(
                                col,
                                format!("too many parameters (the limit is {MAX_PARAMS})"),
                            );
                        }
                        self.params.push(name);
                        self.params.len() - 1
                    }
                };
                Node::Param(i)
            }
        })
    }
}

/// One instruction of the compiled program.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Op {
    X,
    Y,
    Const(f64),
    Param(u8),
    Un(F1),
    Bin(F2),
    /// `top (+ - * /) constant` (the constant folded into the instruction).
    BinK(Arith, f64),
    /// `constant (- /) top`.
    KBin(Arith, f64),
}

/// The four operations that take a constant operand in one instruction.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Arith {
    Add,
    Sub,
    Mul,
    Div,
}

impl Arith {
    fn of(f: F2) -> Option<Self> {
        Some(match f {
            F2::Add => Arith::Add,
            F2::Sub => Arith::Sub,
            F2::Mul => Arith::Mul,
            F2::Div => Arith::Div,
            _ => return None,
        })
    }
}

/// A compiled formula: the source, its parameter names, and a stack program.
#[derive(Clone, Debug, PartialEq)]
pub struct Formula {
    source: String,
    params: Vec<String>,
    ops: Vec<Op>,
    /// The deepest the evaluation stack gets.
    depth: usize,
}

impl Formula {
    /// Parses and compiles `f(x, y)`.
    pub fn parse(source: &str) -> Result<Self, FormulaError> {
        let n = source.chars().count();
        if n > MAX_LEN {
            return err(
                MAX_LEN + 1,
                format!("the formula is too long ({n} characters; the limit is {MAX_LEN})"),
            );
        }
        if source.trim().is_empty() {
            return err(1, "the formula is empty: type f(x, y), e.g. x^2 + y^2");
        }
        let mut p = Parser {
            toks: lex(source)?,
            at: 0,
            depth: 0,
            params: Vec::new(),
        };
        let tree = p.expr()?;
        match p.peek().clone() {
            Tok::End => {}
            Tok::Sym(')') => return err(p.col(), "unmatched ')'"),
            Tok::Sym(c) => return err(p.col(), format!("unexpected '{c}'")),
            _ => return err(p.col(), "expected an operator"),
        }
        let mut ops = Vec::new();
        let mut depth = 0;
        let mut max = 0;
        compile(&tree, &mut ops, &mut depth, &mut max);
        if max > STACK {
            return err(1, "the formula is nested too deeply");
        }
        Ok(Self {
            source: source.trim().to_string(),
            params: p.params,
            ops,
            depth: max,
        })
    }

    /// The text it was parsed from (trimmed).
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The user parameters, in order of first appearance.
    pub fn param_names(&self) -> &[String] {
        &self.params
    }

    /// Number of instructions (after constant folding).
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// `f(p)` with the parameter values `params` (in `param_names` order): the value part of
    /// [`Self::value_and_gradient`], bit for bit.
    #[inline]
    pub fn value(&self, p: DVec2, params: &[f64]) -> f64 {
        let mut st = [0.0f64; STACK];
        let mut sp = 0usize;
        for op in &self.ops {
            match *op {
                Op::X => {
                    st[sp] = p.x;
                    sp += 1;
                }
                Op::Y => {
                    st[sp] = p.y;
                    sp += 1;
                }
                Op::Const(v) => {
                    st[sp] = v;
                    sp += 1;
                }
                Op::Param(i) => {
                    st[sp] = param(params, i);
                    sp += 1;
                }
                Op::Un(f) => st[sp - 1] = apply1(f, st[sp - 1]),
                Op::Bin(f) => {
                    sp -= 1;
                    st[sp - 1] = apply2(f, st[sp - 1], st[sp]);
                }
                Op::BinK(f, k) => st[sp - 1] = dual_k(f, Dual::constant(st[sp - 1]), k).v,
                Op::KBin(f, k) => st[sp - 1] = k_dual(f, k, Dual::constant(st[sp - 1])).v,
            }
        }
        st[0]
    }

    /// `(f(p), grad f(p))` by forward-mode automatic differentiation.
    #[inline]
    pub fn value_and_gradient(&self, p: DVec2, params: &[f64]) -> (f64, DVec2) {
        let (v, g) = self.eval(V2::from(p), params);
        (v, g.into())
    }

    /// [`Self::value_and_gradient`] for one value of any lane type.
    #[inline]
    pub fn eval<R: Real>(&self, p: V2<R>, params: &[f64]) -> (R, V2<R>) {
        let mut st = [Dual::<R>::constant(0.0); STACK];
        let mut sp = 0usize;
        for op in &self.ops {
            match *op {
                Op::X => {
                    st[sp] = Dual::x(p.x);
                    sp += 1;
                }
                Op::Y => {
                    st[sp] = Dual::y(p.y);
                    sp += 1;
                }
                Op::Const(v) => {
                    st[sp] = Dual::constant(v);
                    sp += 1;
                }
                Op::Param(i) => {
                    st[sp] = Dual::constant(param(params, i));
                    sp += 1;
                }
                Op::Un(f) => st[sp - 1] = dual1(f, st[sp - 1]),
                Op::Bin(f) => {
                    sp -= 1;
                    st[sp - 1] = dual2(f, st[sp - 1], st[sp]);
                }
                Op::BinK(f, k) => st[sp - 1] = dual_k(f, st[sp - 1], k),
                Op::KBin(f, k) => st[sp - 1] = k_dual(f, k, st[sp - 1]),
            }
        }
        (st[0].v, V2::new(st[0].dx, st[0].dy))
    }

    /// [`Self::eval`] for many values at once: the program is interpreted once for the whole
    /// block, each instruction applied to every value before the next (one dispatch per
    /// instruction, and loops the compiler vectorizes). `stack` is scratch space, kept by the
    /// caller between calls. Each value's result equals `eval`'s bit for bit. (Always inlined:
    /// the lab's engine compiles it inside its AVX-enabled block.)
    #[inline(always)]
    pub fn eval_block<R: Real>(
        &self,
        ps: &[V2<R>],
        params: &[f64],
        out: &mut [(R, V2<R>)],
        stack: &mut Vec<Dual<R>>,
    ) {
        let n = ps.len();
        stack.resize(self.depth.max(1) * n, Dual::constant(0.0));
        let st = &mut stack[..];
        let mut sp = 0usize;
        for op in &self.ops {
            match *op {
                Op::X => {
                    for (d, p) in st[sp * n..(sp + 1) * n].iter_mut().zip(ps) {
                        *d = Dual::x(p.x);
                    }
                    sp += 1;
                }
                Op::Y => {
                    for (d, p) in st[sp * n..(sp + 1) * n].iter_mut().zip(ps) {
                        *d = Dual::y(p.y);
                    }
                    sp += 1;
                }
                Op::Const(v) => {
                    st[sp * n..(sp + 1) * n].fill(Dual::constant(v));
                    sp += 1;
                }
                Op::Param(i) => {
                    st[sp * n..(sp + 1) * n].fill(Dual::constant(param(params, i)));
                    sp += 1;
                }
                Op::Un(f) => dual1_rows(f, &mut st[(sp - 1) * n..sp * n]),
                Op::Bin(f) => {
                    sp -= 1;
                    let (below, top) = st.split_at_mut(sp * n);
                    dual2_rows(f, &mut below[(sp - 1) * n..], &top[..n]);
                }
                Op::BinK(f, k) => arith_rows(f, k, false, &mut st[(sp - 1) * n..sp * n]),
                Op::KBin(f, k) => arith_rows(f, k, true, &mut st[(sp - 1) * n..sp * n]),
            }
        }
        for (o, d) in out.iter_mut().zip(&st[..n]) {
            *o = (d.v, V2::new(d.dx, d.dy));
        }
    }
}

/// Parameter `i`'s value (1, the default, when none is given).
#[inline(always)]
fn param(params: &[f64], i: u8) -> f64 {
    params.get(i as usize).copied().unwrap_or(1.0)
}

fn compile(node: &Node, ops: &mut Vec<Op>, depth: &mut usize, max: &mut usize) {
    match node {
        Node::X | Node::Y | Node::Num(_) | Node::Param(_) => {
            ops.push(match node {
                Node::X => Op::X,
                Node::Y => Op::Y,
                Node::Num(v) => Op::Const(*v),
                Node::Param(i) => Op::Param(*i as u8),
                _ => Op::Const(f64::NAN),
            });
            *depth += 1;
            *max = (*max).max(*depth);
        }
        Node::Un(f, a) => {
            compile(a, ops, depth, max);
            ops.push(Op::Un(*f));
        }
        Node::Bin(f, a, b) => match (Arith::of(*f), a.as_ref(), b.as_ref()) {
            // A constant operand goes into the instruction: no stack row to fill, and no
            // derivative terms that are known to be zero.
            (Some(op), a, Node::Num(k)) => {
                compile(a, ops, depth, max);
                ops.push(Op::BinK(op, *k));
            }
            // `k + b` and `k * b` equal `b + k` and `b * k` bit for bit.
            (Some(op @ (Arith::Add | Arith::Mul)), Node::Num(k), b) => {
                compile(b, ops, depth, max);
                ops.push(Op::BinK(op, *k));
            }
            (Some(op), Node::Num(k), b) => {
                compile(b, ops, depth, max);
                ops.push(Op::KBin(op, *k));
            }
            _ => {
                compile(a, ops, depth, max);
                compile(b, ops, depth, max);
                ops.push(Op::Bin(*f));
                *depth -= 1;
            }
        },
    }
}

/// `a op k` for a constant `k`: the derivative of the constant is zero, so only `a`'s terms.
#[inline(always)]
fn dual_k<R: Real>(f: Arith, a: Dual<R>, k: f64) -> Dual<R> {
    let k = R::splat(k);
    match f {
        Arith::Add => Dual::new(a.v + k, a.dx, a.dy),
        Arith::Sub => Dual::new(a.v - k, a.dx, a.dy),
        Arith::Mul => Dual::new(a.v * k, a.dx * k, a.dy * k),
        Arith::Div => Dual::new(a.v / k, a.dx / k, a.dy / k),
    }
}

/// `k op a` for a constant `k` (subtraction and division; the others commute).
#[inline(always)]
fn k_dual<R: Real>(f: Arith, k: f64, a: Dual<R>) -> Dual<R> {
    let k = R::splat(k);
    match f {
        Arith::Add => Dual::new(k + a.v, a.dx, a.dy),
        Arith::Sub => Dual::new(k - a.v, -a.dx, -a.dy),
        Arith::Mul => Dual::new(k * a.v, k * a.dx, k * a.dy),
        Arith::Div => {
            let q = k / a.v;
            Dual::new(q, -(q * a.dx) / a.v, -(q * a.dy) / a.v)
        }
    }
}

/// [`k_dual`] with [`dual_k`]'s argument order.
#[inline(always)]
fn flipped<R: Real>(f: Arith, a: Dual<R>, k: f64) -> Dual<R> {
    k_dual(f, k, a)
}

/// [`dual_k`] or [`k_dual`] over a row, the operation chosen once for the row.
#[inline(always)]
fn arith_rows<R: Real>(f: Arith, k: f64, constant_first: bool, row: &mut [Dual<R>]) {
    macro_rules! each {
        ($fun:ident, $op:expr) => {
            for d in row.iter_mut() {
                *d = $fun($op, *d, k);
            }
        };
    }
    match (f, constant_first) {
        (Arith::Add, false) => each!(dual_k, Arith::Add),
        (Arith::Sub, false) => each!(dual_k, Arith::Sub),
        (Arith::Mul, false) => each!(dual_k, Arith::Mul),
        (Arith::Div, false) => each!(dual_k, Arith::Div),
        (Arith::Add, true) => each!(flipped, Arith::Add),
        (Arith::Sub, true) => each!(flipped, Arith::Sub),
        (Arith::Mul, true) => each!(flipped, Arith::Mul),
        (Arith::Div, true) => each!(flipped, Arith::Div),
    }
}

/// `f(v)`: the value part of [`dual1`], bit for bit (also used to fold constants).
#[inline]
fn apply1(f: F1, v: f64) -> f64 {
    dual1(f, Dual::constant(v)).v
}

/// `f(a, b)`: the value part of [`dual2`], bit for bit.
#[inline]
fn apply2(f: F2, a: f64, b: f64) -> f64 {
    dual2(f, Dual::constant(a), Dual::constant(b)).v
}

/// A value with its partial derivatives in x and y, in any lane type.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Dual<R> {
    v: R,
    dx: R,
    dy: R,
}

impl<R: Real> Dual<R> {
    #[inline(always)]
    fn new(v: R, dx: R, dy: R) -> Self {
        Self { v, dx, dy }
    }

    #[inline(always)]
    fn constant(v: f64) -> Self {
        Self::new(R::splat(v), R::splat(0.0), R::splat(0.0))
    }

    #[inline(always)]
    fn x(v: R) -> Self {
        Self::new(v, R::splat(1.0), R::splat(0.0))
    }

    #[inline(always)]
    fn y(v: R) -> Self {
        Self::new(v, R::splat(0.0), R::splat(1.0))
    }

    /// The chain rule `k * d`, where a zero derivative stays zero even when `k` is infinite
    /// (`sqrt(c)` of a constant at 0, `|x|^0.5` along the other axis...).
    #[inline(always)]
    fn chain(self, v: R, k: R) -> Self {
        Self::new(v, scale(self.dx, k), scale(self.dy, k))
    }
}

#[inline(always)]
fn scale<R: Real>(d: R, k: R) -> R {
    let zero = R::splat(0.0);
    R::select(d.eq(zero), zero, d * k)
}

/// Per lane, `f(a, b)` of libm (two-argument functions without a vector form here).
#[inline(always)]
fn zip_f64<R: Real>(a: R, b: R, f: impl Fn(f64, f64) -> f64) -> R {
    R::from_fn(|i| f(a.lane(i), b.lane(i)))
}

/// One-argument functions with their derivatives. Sine, cosine and the exponential are
/// optiscape's own ([`Real::sin_cos`], [`Real::exp`]: vectorized, within an ulp of libm);
/// square roots, absolute values and integer powers are exact IEEE operations; the rest are
/// libm's, lane by lane.
#[inline(always)]
fn dual1<R: Real>(f: F1, a: Dual<R>) -> Dual<R> {
    let c = R::splat;
    let v = a.v;
    match f {
        F1::Neg => Dual::new(-v, -a.dx, -a.dy),
        F1::Sin => {
            let (s, co) = v.sin_cos();
            a.chain(s, co)
        }
        F1::Cos => {
            let (s, co) = v.sin_cos();
            a.chain(co, -s)
        }
        F1::Tan => {
            let t = v.map_f64(f64::tan);
            a.chain(t, c(1.0) + t * t)
        }
        F1::Asin => a.chain(v.map_f64(f64::asin), c(1.0) / (c(1.0) - v * v).sqrt()),
        F1::Acos => a.chain(v.map_f64(f64::acos), c(-1.0) / (c(1.0) - v * v).sqrt()),
        F1::Atan => a.chain(v.map_f64(f64::atan), c(1.0) / (c(1.0) + v * v)),
        F1::Sinh => a.chain(v.map_f64(f64::sinh), v.map_f64(f64::cosh)),
        F1::Cosh => a.chain(v.map_f64(f64::cosh), v.map_f64(f64::sinh)),
        F1::Tanh => {
            let t = v.map_f64(f64::tanh);
            a.chain(t, c(1.0) - t * t)
        }
        F1::Exp => {
            let e = v.exp();
            a.chain(e, e)
        }
        F1::Ln => a.chain(v.map_f64(f64::ln), c(1.0) / v),
        F1::Log2 => a.chain(
            v.map_f64(f64::log2),
            c(1.0) / (v * c(std::f64::consts::LN_2)),
        ),
        F1::Log10 => a.chain(
            v.map_f64(f64::log10),
            c(1.0) / (v * c(std::f64::consts::LN_10)),
        ),
        F1::Sqrt => {
            let s = v.sqrt();
            a.chain(s, c(0.5) / s)
        }
        F1::Cbrt => {
            let r = v.map_f64(f64::cbrt);
            a.chain(r, c(1.0) / (c(3.0) * r * r))
        }
        F1::Abs => a.chain(v.abs(), v.sign0()),
        F1::Sign => Dual::new(v.sign0(), c(0.0), c(0.0)),
        F1::Square => a.chain(v * v, c(2.0) * v),
        F1::PowI(n) => a.chain(v.powi(n), c(n as f64) * v.powi(n - 1)),
    }
}

#[inline(always)]
fn dual2<R: Real>(f: F2, a: Dual<R>, b: Dual<R>) -> Dual<R> {
    match f {
        F2::Add => Dual::new(a.v + b.v, a.dx + b.dx, a.dy + b.dy),
        F2::Sub => Dual::new(a.v - b.v, a.dx - b.dx, a.dy - b.dy),
        F2::Mul => Dual::new(a.v * b.v, a.dx * b.v + a.v * b.dx, a.dy * b.v + a.v * b.dy),
        F2::Div => {
            let q = a.v / b.v;
            Dual::new(q, (a.dx - q * b.dx) / b.v, (a.dy - q * b.dy) / b.v)
        }
        F2::Pow => {
            let r = zip_f64(a.v, b.v, f64::powf);
            // d(a^b) = b a^(b-1) da + a^b ln(a) db, each term only where its derivative is
            // non-zero (so a negative base with a constant exponent has no ln).
            let k1 = b.v * zip_f64(a.v, b.v - R::splat(1.0), f64::powf);
            let k2 = r * a.v.map_f64(f64::ln);
            Dual::new(
                r,
                scale(a.dx, k1) + scale(b.dx, k2),
                scale(a.dy, k1) + scale(b.dy, k2),
            )
        }
        F2::Min => {
            // The chosen branch's derivative; a NaN on the right picks the left.
            let left = a.v.le(b.v) | !b.v.eq(b.v);
            Dual::new(
                R::select(left, a.v.min(b.v), b.v),
                R::select(left, a.dx, b.dx),
                R::select(left, a.dy, b.dy),
            )
        }
        F2::Max => {
            let left = a.v.ge(b.v) | !b.v.eq(b.v);
            Dual::new(
                R::select(left, a.v.max(b.v), b.v),
                R::select(left, a.dx, b.dx),
                R::select(left, a.dy, b.dy),
            )
        }
        F2::Atan2 => {
            let r2 = a.v * a.v + b.v * b.v;
            Dual::new(
                zip_f64(a.v, b.v, f64::atan2),
                (b.v * a.dx - a.v * b.dx) / r2,
                (b.v * a.dy - a.v * b.dy) / r2,
            )
        }
        F2::Hypot => {
            let h = zip_f64(a.v, b.v, f64::hypot);
            Dual::new(
                h,
                scale(a.dx, a.v / h) + scale(b.dx, b.v / h),
                scale(a.dy, a.v / h) + scale(b.dy, b.v / h),
            )
        }
    }
}

/// [`dual1`] over a row of values, the function chosen once for the row.
#[inline(always)]
fn dual1_rows<R: Real>(f: F1, row: &mut [Dual<R>]) {
    macro_rules! each {
        ($f:expr) => {
            for d in row.iter_mut() {
                *d = dual1($f, *d);
            }
        };
    }
    match f {
        F1::Neg => each!(F1::Neg),
        F1::Sin => each!(F1::Sin),
        F1::Cos => each!(F1::Cos),
        F1::Tan => each!(F1::Tan),
        F1::Asin => each!(F1::Asin),
        F1::Acos => each!(F1::Acos),
        F1::Atan => each!(F1::Atan),
        F1::Sinh => each!(F1::Sinh),
        F1::Cosh => each!(F1::Cosh),
        F1::Tanh => each!(F1::Tanh),
        F1::Exp => each!(F1::Exp),
        F1::Ln => each!(F1::Ln),
        F1::Log2 => each!(F1::Log2),
        F1::Log10 => each!(F1::Log10),
        F1::Sqrt => each!(F1::Sqrt),
        F1::Cbrt => each!(F1::Cbrt),
        F1::Abs => each!(F1::Abs),
        F1::Sign => each!(F1::Sign),
        F1::Square => each!(F1::Square),
        F1::PowI(n) => each!(F1::PowI(n)),
    }
}

/// [`dual2`] over two rows (the result replaces the left one), the function chosen once.
#[inline(always)]
fn dual2_rows<R: Real>(f: F2, left: &mut [Dual<R>], right: &[Dual<R>]) {
    macro_rules! each {
        ($f:expr) => {
            for (a, b) in left.iter_mut().zip(right) {
                *a = dual2($f, *a, *b);
            }
        };
    }
    match f {
        F2::Add => each!(F2::Add),
        F2::Sub => each!(F2::Sub),
        F2::Mul => each!(F2::Mul),
        F2::Div => each!(F2::Div),
        F2::Pow => each!(F2::Pow),
        F2::Min => each!(F2::Min),
        F2::Max => each!(F2::Max),
        F2::Atan2 => each!(F2::Atan2),
        F2::Hypot => each!(F2::Hypot),
    }
}
