//! The public compiled forms, [`Statement`] and [`Condition`], and [`infer_context`], which
//! picks the context of statements written with context-prefixed paths (`span.name`), as the
//! `transform` processor's flat configuration does.

use core::fmt;

use crate::ast;
use crate::compile::Compiler;
use crate::eval::Cond;
use crate::funcs::{Editor, compile_editor};
use crate::parser::{parse_condition, parse_statement};
use crate::paths::prefix_context;
use crate::target::{Context, Target, TargetMut, View};
use crate::{EvalError, ParseError};

/// A compiled OTTL boolean condition.
#[derive(Debug, Clone)]
pub struct Condition {
    syntax: ast::BoolExpr,
    cond: Cond,
}

impl Condition {
    /// Parses and compiles `text` for the OTTL `context`. The error says what was expected
    /// and at which byte offset.
    pub fn parse(text: &str, context: Context) -> Result<Condition, ParseError> {
        let syntax = parse_condition(text)?;
        let cond = Compiler { ctx: context }.cond(&syntax)?;
        Ok(Condition { syntax, cond })
    }

    /// Evaluates the condition against `target`; `and` / `or` short-circuit left to right.
    /// `cache` reads as an empty map.
    pub fn eval(&self, target: &Target<'_>) -> Result<bool, EvalError> {
        self.cond.eval(&View {
            target: *target,
            cache: &[],
        })
    }

    /// Evaluates the condition against a writable target (its `cache` included).
    pub fn eval_mut(&self, target: &TargetMut<'_>) -> Result<bool, EvalError> {
        self.cond.eval(&target.view())
    }
}

impl fmt::Display for Condition {
    /// The condition as canonical OTTL; parsing it gives the same condition.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.syntax.fmt(f)
    }
}

/// A compiled OTTL statement: `editor(args) [where condition]`.
#[derive(Debug, Clone)]
pub struct Statement {
    syntax: ast::Statement,
    context: Context,
    editor: Editor,
    condition: Option<Cond>,
}

impl Statement {
    /// Parses and compiles `text` for the OTTL `context`: unknown functions, paths and enums,
    /// wrong arities, arguments of the wrong literal type and bad regular expressions are
    /// refused here, with the byte offset.
    pub fn parse(text: &str, context: Context) -> Result<Statement, ParseError> {
        let syntax = parse_statement(text)?;
        let compiler = Compiler { ctx: context };
        let editor = compile_editor(&compiler, &syntax.editor)?;
        let condition = syntax
            .condition
            .as_ref()
            .map(|c| compiler.cond(c))
            .transpose()?;
        Ok(Statement {
            syntax,
            context,
            editor,
            condition,
        })
    }

    /// The context the statement was compiled for.
    pub fn context(&self) -> Context {
        self.context
    }

    /// Runs the statement against `target`: evaluates the `where` condition, and if it holds
    /// (or there is none) applies the editor. Returns whether the editor ran.
    ///
    /// # Errors
    /// A function given a value it cannot work with (`Len(5)`, `ParseJSON` of text that is
    /// not JSON, ...). The target may be partly edited when an error comes from the editor.
    pub fn execute(&self, target: &mut TargetMut<'_>) -> Result<bool, EvalError> {
        if let Some(c) = &self.condition
            && !c.eval(&target.view())?
        {
            return Ok(false);
        }
        self.editor.apply(target)?;
        Ok(true)
    }
}

impl fmt::Display for Statement {
    /// The statement as canonical OTTL; parsing it gives the same statement.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.syntax.fmt(f)
    }
}

/// What [`infer_context`] looked at when it failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InferSource {
    /// The statement at this index.
    Statement(usize),
    /// The condition at this index.
    Condition(usize),
    /// The group as a whole (no path names a context).
    Group,
}

/// Why [`infer_context`] failed: a syntax error, a prefix outside the candidates, or no prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InferError {
    /// Where.
    pub source: InferSource,
    /// What, and the byte offset in that text (0 for [`InferSource::Group`]).
    pub error: ParseError,
}

impl fmt::Display for InferError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.source {
            InferSource::Statement(i) => write!(f, "statement {i}: {}", self.error),
            InferSource::Condition(i) => write!(f, "condition {i}: {}", self.error),
            InferSource::Group => write!(f, "{}", self.error),
        }
    }
}

impl std::error::Error for InferError {}

/// The context for a group of statements and conditions written with context-prefixed paths:
/// the most specific of the contexts their path prefixes name (`span.name` and
/// `resource.attributes` give `span`; `metric.name` and `datapoint.attributes` give
/// `datapoint`). `candidates` are the contexts of the signal (e.g. resource, scope, span,
/// spanevent for traces); a prefix outside them is an error, and so is a group where no path
/// has a prefix.
pub fn infer_context(
    statements: &[&str],
    conditions: &[&str],
    candidates: &[Context],
) -> Result<Context, InferError> {
    let mut found: Vec<(InferSource, usize, Context)> = Vec::new();
    let mut note = |source: InferSource,
                    paths: Vec<(usize, &ast::PathExpr)>|
     -> Result<(), InferError> {
        for (at, p) in paths {
            let Some(ctx) = prefix_context(p) else {
                continue;
            };
            if !candidates.contains(&ctx) {
                return Err(InferError {
                    source,
                    error: ParseError {
                        position: at,
                        message: format!(
                            "path `{p}` names the {} context, which is not available here (available: {})",
                            ctx.name(),
                            candidates
                                .iter()
                                .map(|c| c.name())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    },
                });
            }
            found.push((source, at, ctx));
        }
        Ok(())
    };
    for (i, text) in statements.iter().enumerate() {
        let source = InferSource::Statement(i);
        let syntax = parse_statement(text).map_err(|error| InferError { source, error })?;
        note(source, syntax.paths())?;
    }
    for (i, text) in conditions.iter().enumerate() {
        let source = InferSource::Condition(i);
        let syntax = parse_condition(text).map_err(|error| InferError { source, error })?;
        let mut paths = Vec::new();
        syntax.paths(&mut paths);
        note(source, paths)?;
    }
    let Some(&(_, _, deepest)) = found.iter().max_by_key(|(_, _, c)| c.depth()) else {
        return Err(InferError {
            source: InferSource::Group,
            error: ParseError {
                position: 0,
                message: "cannot infer the context: no path starts with a context name (such as `span.` or `resource.`); write one, or give `context:`".into(),
            },
        });
    };
    if let Some(&(source, at, other)) = found.iter().find(|(_, _, c)| !deepest.can_reach(*c)) {
        return Err(InferError {
            source,
            error: ParseError {
                position: at,
                message: format!(
                    "the {} context cannot be used together with the {} context in one group",
                    other.name(),
                    deepest.name()
                ),
            },
        });
    }
    Ok(deepest)
}
