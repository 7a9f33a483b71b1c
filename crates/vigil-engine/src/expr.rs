//! The condition language of models: comparisons of metrics joined by `and`, `or`, `not` and
//! parentheses.
//!
//! ```text
//! ua_legacy_auth and (country_unusual or asn_org_accounts == 0)
//! send_count_15m >= 100 and send_ratio_15m > 3
//! rule_name != 'Newsletters'
//! ```
//!
//! A bare metric name means "is true (non-zero, non-empty)". A comparison with a metric the
//! event does not have is false. The right-hand side may be a number, `true`, `false`, a quoted
//! string, or another metric.

use crate::metrics::{metric_def, MetricType, Metrics, Value};

#[derive(Clone, Debug, PartialEq)]
pub enum Operand {
    Lit(Value),
    Metric(&'static str),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Ge,
    Le,
    Gt,
    Lt,
    Contains,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    Truthy(&'static str),
    Cmp(&'static str, Op, Operand),
    Not(Box<Expr>),
    And(Vec<Expr>),
    Or(Vec<Expr>),
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Ident(String),
    Num(f64),
    Str(String),
    Op(Op),
    LParen,
    RParen,
}

fn tokenize(s: &str) -> Result<Vec<Tok>, String> {
    let mut out = Vec::new();
    let b: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '(' {
            out.push(Tok::LParen);
            i += 1;
        } else if c == ')' {
            out.push(Tok::RParen);
            i += 1;
        } else if c == '\'' || c == '"' {
            let q = c;
            let start = i + 1;
            let mut j = start;
            while j < b.len() && b[j] != q {
                j += 1;
            }
            if j >= b.len() {
                return Err("unterminated string".into());
            }
            out.push(Tok::Str(b[start..j].iter().collect()));
            i = j + 1;
        } else if "=!<>".contains(c) {
            let two: String = b[i..(i + 2).min(b.len())].iter().collect();
            let (op, len) = match two.as_str() {
                "==" => (Op::Eq, 2),
                "!=" => (Op::Ne, 2),
                ">=" => (Op::Ge, 2),
                "<=" => (Op::Le, 2),
                _ if c == '>' => (Op::Gt, 1),
                _ if c == '<' => (Op::Lt, 1),
                _ => return Err(format!("unknown operator at `{two}`")),
            };
            out.push(Tok::Op(op));
            i += len;
        } else if c.is_ascii_digit()
            || (c == '-' && b.get(i + 1).is_some_and(|d| d.is_ascii_digit()))
        {
            let start = i;
            i += 1;
            while i < b.len() && (b[i].is_ascii_digit() || b[i] == '.') {
                i += 1;
            }
            let t: String = b[start..i].iter().collect();
            out.push(Tok::Num(
                t.parse().map_err(|_| format!("bad number `{t}`"))?,
            ));
        } else if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == '_') {
                i += 1;
            }
            out.push(Tok::Ident(b[start..i].iter().collect()));
        } else {
            return Err(format!("unexpected character `{c}`"));
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }
    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }
    fn is_kw(&self, kw: &str) -> bool {
        matches!(self.peek(), Some(Tok::Ident(s)) if s == kw)
    }
    fn or(&mut self) -> Result<Expr, String> {
        let mut v = vec![self.and()?];
        while self.is_kw("or") {
            self.pos += 1;
            v.push(self.and()?);
        }
        Ok(if v.len() == 1 {
            v.pop().expect("one")
        } else {
            Expr::Or(v)
        })
    }
    fn and(&mut self) -> Result<Expr, String> {
        let mut v = vec![self.unary()?];
        while self.is_kw("and") {
            self.pos += 1;
            v.push(self.unary()?);
        }
        Ok(if v.len() == 1 {
            v.pop().expect("one")
        } else {
            Expr::And(v)
        })
    }
    fn unary(&mut self) -> Result<Expr, String> {
        if self.is_kw("not") {
            self.pos += 1;
            return Ok(Expr::Not(Box::new(self.unary()?)));
        }
        match self.next() {
            Some(Tok::LParen) => {
                let e = self.or()?;
                match self.next() {
                    Some(Tok::RParen) => Ok(e),
                    _ => Err("missing `)`".into()),
                }
            }
            Some(Tok::Ident(name)) => {
                let def = metric_def(&name).ok_or_else(|| unknown_metric(&name))?;
                let op = match self.peek() {
                    Some(Tok::Op(op)) => *op,
                    Some(Tok::Ident(s)) if s == "contains" => Op::Contains,
                    _ => return Ok(Expr::Truthy(def.name)),
                };
                self.pos += 1;
                let rhs = match self.next() {
                    Some(Tok::Num(x)) => Operand::Lit(Value::Num(x)),
                    Some(Tok::Str(s)) => Operand::Lit(Value::Str(s)),
                    Some(Tok::Ident(s)) if s == "true" => Operand::Lit(Value::Bool(true)),
                    Some(Tok::Ident(s)) if s == "false" => Operand::Lit(Value::Bool(false)),
                    Some(Tok::Ident(s)) => {
                        Operand::Metric(metric_def(&s).ok_or_else(|| unknown_metric(&s))?.name)
                    }
                    _ => return Err(format!("`{name}` needs a value after the operator")),
                };
                check_types(def.name, def.ty, op, &rhs)?;
                Ok(Expr::Cmp(def.name, op, rhs))
            }
            Some(t) => Err(format!("unexpected {t:?}")),
            None => Err("unexpected end of condition".into()),
        }
    }
}

fn unknown_metric(name: &str) -> String {
    let close: Vec<&str> = crate::metrics::METRICS
        .iter()
        .map(|m| m.name)
        .filter(|m| {
            let pre = name.split('_').next().unwrap_or(name);
            m.starts_with(pre)
        })
        .take(6)
        .collect();
    if close.is_empty() {
        format!("unknown metric `{name}`")
    } else {
        format!(
            "unknown metric `{name}` (did you mean one of: {})",
            close.join(", ")
        )
    }
}

fn check_types(name: &str, ty: MetricType, op: Op, rhs: &Operand) -> Result<(), String> {
    let rty = match rhs {
        Operand::Lit(Value::Bool(_)) => MetricType::Bool,
        Operand::Lit(Value::Num(_)) => MetricType::Num,
        Operand::Lit(Value::Str(_)) => MetricType::Str,
        Operand::Metric(m) => metric_def(m).map_or(MetricType::Num, |d| d.ty),
    };
    let ordered = matches!(op, Op::Ge | Op::Le | Op::Gt | Op::Lt);
    if ordered && (ty != MetricType::Num || rty != MetricType::Num) {
        return Err(format!("`{name}` is not a number: only == and != apply"));
    }
    if op == Op::Contains && ty != MetricType::Str {
        return Err(format!(
            "`contains` needs a text metric; `{name}` is not one"
        ));
    }
    if !ordered && op != Op::Contains && ty != rty {
        return Err(format!("`{name}` is {ty:?} but is compared with a {rty:?}"));
    }
    Ok(())
}

/// Parses a condition.
pub fn parse(s: &str) -> Result<Expr, String> {
    let mut p = Parser {
        toks: tokenize(s)?,
        pos: 0,
    };
    if p.toks.is_empty() {
        return Err("empty condition".into());
    }
    let e = p.or()?;
    if p.pos < p.toks.len() {
        return Err(format!(
            "unexpected {:?} after the condition",
            p.toks[p.pos]
        ));
    }
    Ok(e)
}

impl Expr {
    pub fn eval(&self, m: &Metrics) -> bool {
        match self {
            Expr::Truthy(n) => m.get(n).is_some_and(|x| x.value.truthy()),
            Expr::Not(e) => !e.eval(m),
            Expr::And(v) => v.iter().all(|e| e.eval(m)),
            Expr::Or(v) => v.iter().any(|e| e.eval(m)),
            Expr::Cmp(n, op, rhs) => {
                let Some(l) = m.get(n).map(|x| &x.value) else {
                    return false;
                };
                let r = match rhs {
                    Operand::Lit(v) => v,
                    Operand::Metric(r) => match m.get(r) {
                        Some(x) => &x.value,
                        None => return false,
                    },
                };
                compare(l, *op, r)
            }
        }
    }

    /// Metric names the condition reads, in order of first appearance.
    pub fn metrics(&self, out: &mut Vec<&'static str>) {
        let mut add = |n: &'static str| {
            if !out.contains(&n) {
                out.push(n)
            }
        };
        match self {
            Expr::Truthy(n) => add(n),
            Expr::Cmp(n, _, rhs) => {
                add(n);
                if let Operand::Metric(r) = rhs {
                    add(r);
                }
            }
            Expr::Not(e) => e.metrics(out),
            Expr::And(v) | Expr::Or(v) => v.iter().for_each(|e| e.metrics(out)),
        }
    }
}

fn compare(l: &Value, op: Op, r: &Value) -> bool {
    match (l, r) {
        (Value::Str(a), Value::Str(b)) => match op {
            Op::Eq => a.eq_ignore_ascii_case(b),
            Op::Ne => !a.eq_ignore_ascii_case(b),
            Op::Contains => a.to_ascii_lowercase().contains(&b.to_ascii_lowercase()),
            _ => false,
        },
        _ => {
            let (Some(a), Some(b)) = (l.as_f64(), r.as_f64()) else {
                return false;
            };
            match op {
                Op::Eq => a == b,
                Op::Ne => a != b,
                Op::Ge => a >= b,
                Op::Le => a <= b,
                Op::Gt => a > b,
                Op::Lt => a < b,
                Op::Contains => false,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::Metric;

    fn ms(pairs: &[(&'static str, Value)]) -> Metrics {
        let mut m = Metrics::default();
        for (k, v) in pairs {
            m.map.insert(
                k,
                Metric {
                    value: v.clone(),
                    baseline: None,
                    text: None,
                },
            );
        }
        m
    }

    #[test]
    fn parses_and_evaluates() {
        let e = parse("ua_legacy_auth and (country_unusual or asn_org_accounts == 0)").unwrap();
        let m = ms(&[
            ("ua_legacy_auth", true.into()),
            ("country_unusual", false.into()),
            ("asn_org_accounts", 0.0.into()),
        ]);
        assert!(e.eval(&m));
        let m2 = ms(&[
            ("ua_legacy_auth", true.into()),
            ("country_unusual", false.into()),
            ("asn_org_accounts", 3.0.into()),
        ]);
        assert!(!e.eval(&m2));
        assert!(!parse("not ua_legacy_auth").unwrap().eval(&m2));
        assert!(parse("send_count_15m > recipients_15m")
            .unwrap()
            .eval(&ms(&[
                ("send_count_15m", 5.0.into()),
                ("recipients_15m", 2.0.into())
            ])));
        assert!(parse("rule_name == '.'")
            .unwrap()
            .eval(&ms(&[("rule_name", ".".into())])));
        assert!(parse("ua_family contains 'bav'")
            .unwrap()
            .eval(&ms(&[("ua_family", "BAV2ROPC".into())])));
        // missing metric: comparison is false
        assert!(!parse("send_count_15m > 1")
            .unwrap()
            .eval(&Metrics::default()));
    }

    #[test]
    fn rejects_bad_conditions() {
        assert!(parse("no_such_metric")
            .unwrap_err()
            .contains("unknown metric"));
        assert!(parse("ua_legacy_auth >= 3")
            .unwrap_err()
            .contains("not a number"));
        assert!(parse("send_count_15m == 'x'").is_err());
        assert!(parse("(ua_legacy_auth").is_err());
        assert!(parse("ua_legacy_auth country_unusual").is_err());
        assert!(parse("").is_err());
    }
}
