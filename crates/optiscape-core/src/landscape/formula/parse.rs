//! Typed formulas' lexer and parser: text to a constant-folded tree, or one error with its
//! column.

use super::dual::{apply1, apply2};
use super::{FormulaError, MAX_DEPTH, MAX_NAME, MAX_PARAMS, err};

/// One-argument functions (and unary operators).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum F1 {
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
pub(super) enum F2 {
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
pub(super) enum Node {
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

/// The constant-folded tree of `source`, with its parameter names in order of first appearance.
pub(super) fn tree(source: &str) -> Result<(Node, Vec<String>), FormulaError> {
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
    Ok((tree, p.params))
}
