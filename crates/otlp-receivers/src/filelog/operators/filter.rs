//! `filter`: drops the entries for which `expr` is true (`drop_ratio`, default 1, drops that
//! share of them, spread evenly).

use std::sync::atomic::{AtomicU64, Ordering};

use serde::Deserialize;
use serde_yaml_ng::Mapping;

use otlp_pipeline::config::ConfigError;

use super::{Operator, Resolver, Step};
use crate::filelog::entry::Entry;
use crate::filelog::expr::Expr;

pub(crate) struct Filter {
    expr: Expr,
    drop_ratio: f64,
    matched: AtomicU64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    expr: String,
    #[serde(default = "one")]
    drop_ratio: f64,
}

fn one() -> f64 {
    1.0
}

impl Filter {
    pub(crate) fn build(rest: &Mapping, r: &Resolver<'_>) -> Result<Filter, ConfigError> {
        let c: Config = r.parse(rest)?;
        if !(0.0..=1.0).contains(&c.drop_ratio) {
            return Err(r.error("drop_ratio", "must be between 0 and 1"));
        }
        Ok(Filter {
            expr: r.expr("expr", &c.expr)?,
            drop_ratio: c.drop_ratio,
            matched: AtomicU64::new(0),
        })
    }
}

impl Operator for Filter {
    fn process(&self, entry: &mut Entry) -> Result<Step, String> {
        if !self.expr.eval(entry) {
            return Ok(Step::Next);
        }
        if self.drop_ratio >= 1.0 {
            return Ok(Step::Drop);
        }
        let n = self.matched.fetch_add(1, Ordering::Relaxed) as f64;
        // Drop when the running share of drops would fall below the ratio.
        let drop = ((n + 1.0) * self.drop_ratio).floor() > (n * self.drop_ratio).floor();
        Ok(if drop { Step::Drop } else { Step::Next })
    }
}
