//! Entra's attribute-mapping expressions, the subset that decides what Entra sends:
//! `[attribute]`, `"literal"`, and the functions `Switch`, `Not`, `Join`, `Append`,
//! `ToLower`, `ToUpper` (the portal's "Expression" mapping type).
//!
//! Values are strings or absent (Entra omits nulls); booleans are Entra's `"True"` and
//! `"False"`, which is how `Switch([IsSoftDeleted], , "False", "True", "True", "False")`
//! turns into the `active` value.

/// A parsed expression.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expr {
    /// `[attribute]`: a source attribute of the directory object.
    Source(String),
    /// `"text"`.
    Literal(String),
    /// An omitted argument (`Switch([x], , …)` has an empty default).
    Empty,
    /// `Name(args)`.
    Call(Function, Vec<Expr>),
}

/// The functions the harness evaluates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Function {
    Switch,
    Not,
    Join,
    Append,
    ToLower,
    ToUpper,
}

const FUNCTIONS: &[(&str, Function)] = &[
    ("Switch", Function::Switch),
    ("Not", Function::Not),
    ("Join", Function::Join),
    ("Append", Function::Append),
    ("ToLower", Function::ToLower),
    ("ToUpper", Function::ToUpper),
];

/// A syntax error: what, and at which character of the expression.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExprError {
    pub at: usize,
    pub message: String,
}

impl Expr {
    /// Parses an expression such as `Switch([IsSoftDeleted], , "False", "True")`.
    pub fn parse(text: &str) -> Result<Expr, ExprError> {
        let chars: Vec<char> = text.chars().collect();
        let mut p = Parser { chars, at: 0 };
        let e = p.expr()?;
        p.ws();
        if p.at < p.chars.len() {
            return Err(p.error("unexpected text after the expression"));
        }
        match e {
            Expr::Empty => Err(p.error("empty expression")),
            e => Ok(e),
        }
    }

    /// The source attributes the expression reads.
    pub fn sources(&self) -> Vec<&str> {
        match self {
            Expr::Source(s) => vec![s.as_str()],
            Expr::Call(_, args) => args.iter().flat_map(Expr::sources).collect(),
            Expr::Literal(_) | Expr::Empty => Vec::new(),
        }
    }

    /// Evaluates with `lookup` giving a source attribute's value (None = null/absent).
    pub fn eval(&self, lookup: &dyn Fn(&str) -> Option<String>) -> Option<String> {
        match self {
            Expr::Source(s) => lookup(s),
            Expr::Literal(s) => Some(s.clone()),
            Expr::Empty => None,
            Expr::Call(f, args) => call(*f, args, lookup),
        }
    }
}

fn call(f: Function, args: &[Expr], lookup: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    let arg = |i: usize| args.get(i).and_then(|a| a.eval(lookup));
    match f {
        Function::Switch => {
            let value = arg(0);
            let pairs = args.get(2..).unwrap_or(&[]);
            for pair in pairs.chunks(2) {
                if let [key, result] = pair {
                    if key.eval(lookup).is_some() && key.eval(lookup) == value {
                        return result.eval(lookup);
                    }
                }
            }
            arg(1)
        }
        Function::Not => arg(0).map(|v| {
            if v.eq_ignore_ascii_case("true") {
                "False".into()
            } else {
                "True".into()
            }
        }),
        Function::Join => {
            let sep = arg(0).unwrap_or_default();
            let parts: Vec<String> = (1..args.len()).filter_map(arg).collect();
            (!parts.is_empty()).then(|| parts.join(&sep))
        }
        Function::Append => match (arg(0), arg(1)) {
            (None, None) => None,
            (a, b) => Some(a.unwrap_or_default() + &b.unwrap_or_default()),
        },
        Function::ToLower => arg(0).map(|v| v.to_lowercase()),
        Function::ToUpper => arg(0).map(|v| v.to_uppercase()),
    }
}

struct Parser {
    chars: Vec<char>,
    at: usize,
}

impl Parser {
    fn error(&self, message: &str) -> ExprError {
        ExprError {
            at: self.at,
            message: message.into(),
        }
    }

    fn ws(&mut self) {
        while self.chars.get(self.at).is_some_and(|c| c.is_whitespace()) {
            self.at += 1;
        }
    }

    fn expr(&mut self) -> Result<Expr, ExprError> {
        self.ws();
        match self.chars.get(self.at) {
            None | Some(',') | Some(')') => Ok(Expr::Empty),
            Some('"') => self.literal(),
            Some('[') => self.source(),
            Some(c) if c.is_ascii_alphabetic() => self.call(),
            Some(c) => Err(self.error(&format!("unexpected `{c}`"))),
        }
    }

    fn literal(&mut self) -> Result<Expr, ExprError> {
        let start = self.at;
        self.at += 1;
        let mut out = String::new();
        while let Some(&c) = self.chars.get(self.at) {
            self.at += 1;
            match c {
                '"' => return Ok(Expr::Literal(out)),
                '\\' => {
                    if let Some(&next) = self.chars.get(self.at) {
                        out.push(next);
                        self.at += 1;
                    }
                }
                c => out.push(c),
            }
        }
        self.at = start;
        Err(self.error("unclosed string literal"))
    }

    fn source(&mut self) -> Result<Expr, ExprError> {
        let start = self.at;
        self.at += 1;
        let name: String = self.chars[self.at..]
            .iter()
            .take_while(|c| **c != ']')
            .collect();
        self.at += name.chars().count();
        if self.chars.get(self.at) != Some(&']') {
            self.at = start;
            return Err(self.error("unclosed `[` (write a source attribute as `[name]`)"));
        }
        self.at += 1;
        let name = name.trim();
        if name.is_empty() {
            self.at = start;
            return Err(self.error("empty source attribute `[]`"));
        }
        Ok(Expr::Source(name.to_string()))
    }

    fn call(&mut self) -> Result<Expr, ExprError> {
        let start = self.at;
        let name: String = self.chars[self.at..]
            .iter()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        self.at += name.len();
        let Some(function) = FUNCTIONS
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(&name))
            .map(|(_, f)| *f)
        else {
            self.at = start;
            let names: Vec<&str> = FUNCTIONS.iter().map(|(n, _)| *n).collect();
            return Err(self.error(&format!(
                "unsupported function `{name}` (scimreplay evaluates {})",
                names.join(", ")
            )));
        };
        self.ws();
        if self.chars.get(self.at) != Some(&'(') {
            return Err(self.error(&format!("expected `(` after `{name}`")));
        }
        self.at += 1;
        let mut args = Vec::new();
        loop {
            args.push(self.expr()?);
            self.ws();
            match self.chars.get(self.at) {
                Some(',') => self.at += 1,
                Some(')') => {
                    self.at += 1;
                    return Ok(Expr::Call(function, args));
                }
                _ => return Err(self.error(&format!("expected `,` or `)` in `{name}(…)`"))),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval(text: &str, attrs: &[(&str, &str)]) -> Option<String> {
        let e = Expr::parse(text).unwrap();
        let lookup = |name: &str| {
            attrs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        };
        e.eval(&lookup)
    }

    const ACTIVE: &str = r#"Switch([IsSoftDeleted], , "False", "True", "True", "False")"#;

    #[test]
    fn the_active_switch_inverts_is_soft_deleted() {
        assert_eq!(
            eval(ACTIVE, &[("IsSoftDeleted", "False")]).as_deref(),
            Some("True")
        );
        assert_eq!(
            eval(ACTIVE, &[("IsSoftDeleted", "True")]).as_deref(),
            Some("False")
        );
        assert_eq!(eval(ACTIVE, &[]), None);
        assert_eq!(
            Expr::parse(ACTIVE).unwrap().sources(),
            vec!["IsSoftDeleted"]
        );
    }

    #[test]
    fn other_functions() {
        let attrs = [("givenName", "Alice"), ("surname", "Smith")];
        let join = r#"Join(" ", [givenName], [surname], [middleName])"#;
        assert_eq!(eval(join, &attrs).as_deref(), Some("Alice Smith"));
        assert_eq!(
            eval("ToLower([givenName])", &attrs).as_deref(),
            Some("alice")
        );
        assert_eq!(
            eval(r#"Append([surname], "-x")"#, &attrs).as_deref(),
            Some("Smith-x")
        );
        assert_eq!(
            eval("Not([flag])", &[("flag", "True")]).as_deref(),
            Some("False")
        );
        assert_eq!(eval("[missing]", &attrs), None);
    }

    #[test]
    fn syntax_errors_say_where() {
        let e = Expr::parse("Switch([IsSoftDeleted], \"x\"").unwrap_err();
        assert_eq!(e.message, "expected `,` or `)` in `Switch(…)`");
        let e = Expr::parse("SingleAppRoleAssignment([appRoleAssignments])").unwrap_err();
        assert_eq!(e.at, 0);
        assert!(
            e.message
                .starts_with("unsupported function `SingleAppRoleAssignment`")
        );
        assert!(Expr::parse("[open").is_err());
        assert!(Expr::parse("\"x\" y").is_err());
        assert!(Expr::parse("  ").is_err());
    }
}
