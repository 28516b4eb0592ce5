//! `click-testkit`: play Click against a merchant's callback URLs. See `click-testkit --help`.

use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use click_core::{SecretKey, ServiceId};
use click_testkit::{ORDERS_NEEDED, Options, OrderSpec, Target};

/// A local emulator of Click's SHOP-API.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the scenario suite (Click's 15 test-tool scenarios, then PROTOCOL.md's checks).
    Check {
        #[command(flatten)]
        target: TargetArgs,
        /// A payable order, `ID:AMOUNT`; repeat it (a full run pays several orders).
        #[arg(long = "order", required = true)]
        orders: Vec<OrderSpec>,
        /// An order that is already paid, `ID:AMOUNT`.
        #[arg(long)]
        paid_order: Option<OrderSpec>,
        /// The answer expected to a cancel of a paid payment: -4 (Click's documentation) or -9.
        #[arg(long, default_value = "-4", allow_negative_numbers = true, value_parser = cancel_code)]
        cancel_after_confirm: i64,
        /// Also check HTTP transport (body size, content types, methods).
        #[arg(long)]
        transport: bool,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Pay one order: Prepare, then Complete; print the exchange.
    Pay {
        #[command(flatten)]
        target: TargetArgs,
        /// The order to pay, `ID:AMOUNT`.
        #[arg(long)]
        order: OrderSpec,
    },
}

#[derive(Args)]
struct TargetArgs {
    /// The merchant's Prepare URL.
    #[arg(long)]
    prepare_url: String,
    /// The merchant's Complete URL.
    #[arg(long)]
    complete_url: String,
    /// The service id.
    #[arg(long, env = "CLICK_SERVICE_ID")]
    service_id: ServiceId,
    /// The service's secret key.
    #[arg(long, env = "CLICK_SECRET_KEY", hide_env_values = true)]
    secret_key: String,
}

impl From<TargetArgs> for Target {
    fn from(args: TargetArgs) -> Self {
        Target {
            prepare_url: args.prepare_url,
            complete_url: args.complete_url,
            service_id: args.service_id,
            secret_key: SecretKey::new(args.secret_key),
        }
    }
}

fn cancel_code(text: &str) -> Result<i64, String> {
    match text {
        "-4" => Ok(-4),
        "-9" => Ok(-9),
        _ => Err("expected -4 or -9".to_owned()),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Check {
            target,
            orders,
            paid_order,
            cancel_after_confirm,
            transport,
            json,
        } => {
            let target = Target::from(target);
            if orders.len() < ORDERS_NEEDED {
                eprintln!(
                    "note: a full run pays {ORDERS_NEEDED} orders; {} given",
                    orders.len()
                );
            }
            let options = Options {
                cancel_after_confirm,
                ..Options::default()
            };
            let mut report =
                click_testkit::check(&target, &orders, paid_order.as_ref(), options).await;
            if transport {
                let offset = report.results.len();
                let mut extra = click_testkit::transport::check(&target).await;
                for result in &mut extra.results {
                    result.number += offset;
                }
                report.results.extend(extra.results);
            }
            if json {
                println!("{}", report.to_json());
            } else {
                println!("{report}");
            }
            if report.passed() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Command::Pay { target, order } => {
            let exchanges = click_testkit::pay(&Target::from(target), &order).await;
            for (step, exchange) in ["Prepare", "Complete"].iter().zip(&exchanges) {
                println!("{step}:\n{exchange}\n");
            }
            let paid = exchanges.len() == 2
                && exchanges
                    .iter()
                    .all(|e| e.status == Some(200) && e.error == Some(0));
            println!("{}", if paid { "paid" } else { "NOT paid" });
            if paid {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
    }
}
