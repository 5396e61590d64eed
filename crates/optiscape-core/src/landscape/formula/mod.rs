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

mod dual;
mod parse;

pub use dual::Dual;
use dual::{apply1, apply2, arith_rows, dual_k, dual1, dual1_rows, dual2, dual2_rows, k_dual};
use parse::{F1, F2, Node};
pub use parse::{RESERVED, function_names};

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
pub(super) enum Arith {
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
        let (tree, params) = parse::tree(source)?;
        let mut ops = Vec::new();
        let mut depth = 0;
        let mut max = 0;
        compile(&tree, &mut ops, &mut depth, &mut max);
        if max > STACK {
            return err(1, "the formula is nested too deeply");
        }
        Ok(Self {
            source: source.trim().to_string(),
            params,
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
