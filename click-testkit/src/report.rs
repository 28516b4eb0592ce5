//! The report of a run: readable text, or JSON for machines.

use std::fmt;

use serde::Serialize;

use crate::http::Exchange;

/// The outcome of one scenario.
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioResult {
    /// Its position in the run.
    pub number: usize,
    /// What it checks, with the expected answer.
    pub name: String,
    /// Whether every expectation held.
    pub passed: bool,
    /// Why it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The requests and answers that show the failure.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub exchanges: Vec<Exchange>,
}

impl ScenarioResult {
    pub(crate) fn passed(number: usize, name: &str) -> Self {
        Self {
            number,
            name: name.to_owned(),
            passed: true,
            message: None,
            exchanges: Vec::new(),
        }
    }

    pub(crate) fn failed(
        number: usize,
        name: &str,
        message: String,
        exchanges: Vec<Exchange>,
    ) -> Self {
        Self {
            number,
            name: name.to_owned(),
            passed: false,
            message: Some(message),
            exchanges,
        }
    }
}

/// Every scenario of a run, in order.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    /// The scenarios.
    pub results: Vec<ScenarioResult>,
}

impl Report {
    /// Whether every scenario passed (and there was at least one).
    pub fn passed(&self) -> bool {
        !self.results.is_empty() && self.results.iter().all(|result| result.passed)
    }

    /// How many scenarios passed and failed.
    pub fn counts(&self) -> (usize, usize) {
        let passed = self.results.iter().filter(|result| result.passed).count();
        (passed, self.results.len() - passed)
    }

    /// The report as JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self)
            .unwrap_or_else(|error| format!("{{\"error\":\"{error}\"}}"))
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for result in &self.results {
            let mark = if result.passed { "PASS" } else { "FAIL" };
            writeln!(f, "{mark}  {:>2}  {}", result.number, result.name)?;
            if let Some(message) = &result.message {
                writeln!(f, "          {message}")?;
            }
            for exchange in &result.exchanges {
                writeln!(f, "{exchange}")?;
            }
        }
        let (passed, failed) = self.counts();
        write!(f, "\nscenarios: {passed} passed, {failed} failed")
    }
}
