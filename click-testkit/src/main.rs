//! `click-testkit`: play Click against a merchant's callback URLs, or serve a mock of Click's
//! Merchant API. See `click-testkit --help`.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use click_core::{MerchantUserId, SecretKey, ServiceId};
use click_testkit::bot_api::FakeBotApi;
use click_testkit::mock::{MockApi, MockConfig, Payment};
use click_testkit::{ORDERS_NEEDED, Options, OrderSpec, Target, ToolOrders};

/// A local emulator of Click's SHOP-API.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the scenario suite (Click's 15 test-tool scenarios, then the protocol checks), or with
    /// `--click-tool` replay Click's test tool exactly.
    Check {
        #[command(flatten)]
        target: TargetArgs,
        /// Replay Click's test tool exactly as Click ships it: its fixed click_trans_ids, its old
        /// sign_time, 500 so'm, its expected answers. Takes --merchant-trans-id.
        #[arg(long, requires = "merchant_trans_ids", conflicts_with_all = ["orders", "paid_order"])]
        click_tool: bool,
        /// With --click-tool: the merchant_trans_id entered in the tool. Once: an account, used by
        /// every chain (as the tool is usually run). Three times: a fresh one-time order of 500
        /// so'm per chain.
        #[arg(long = "merchant-trans-id", num_args = 1)]
        merchant_trans_ids: Vec<click_core::MerchantTransId>,
        /// A payable order, `ID:AMOUNT`; repeat it (a full run pays several orders).
        #[arg(long = "order", required_unless_present = "click_tool")]
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
    /// Play Click under load: pay orders `{prefix}0..N` once each, from C workers, for S seconds.
    Load {
        /// The merchant's base URL; the callbacks are at /click/prepare and /click/complete.
        /// Repeat it for several instances sharing one store.
        #[arg(long = "base-url", required = true)]
        base_urls: Vec<String>,
        /// Identical Completes sent at once per payment, spread over the instances.
        #[arg(long, default_value_t = 1)]
        duplicates: usize,
        /// Like Click, resend an unanswered callback until answered, for at most this many
        /// seconds (for runs that kill and restart the server).
        #[arg(long)]
        resend_for: Option<u64>,
        /// The service id.
        #[arg(long, env = "CLICK_SERVICE_ID")]
        service_id: ServiceId,
        /// The service's secret key.
        #[arg(long, env = "CLICK_SECRET_KEY", hide_env_values = true)]
        secret_key: String,
        /// How many orders exist.
        #[arg(long)]
        orders: usize,
        /// The orders' id prefix.
        #[arg(long, default_value = "load-")]
        prefix: String,
        /// Every order's amount.
        #[arg(long, default_value = "1000")]
        amount: click_core::Amount,
        /// Concurrent workers, one keep-alive connection each.
        #[arg(long, default_value_t = 32)]
        concurrency: usize,
        /// Seconds to run at most.
        #[arg(long, default_value_t = 10)]
        duration: u64,
    },
    /// Pay one order: Prepare, then Complete; print the exchange.
    Pay {
        #[command(flatten)]
        target: TargetArgs,
        /// The order to pay, `ID:AMOUNT`.
        #[arg(long)]
        order: OrderSpec,
    },
    /// Serve a mock of Click's Merchant API until Ctrl-C; prints its base URL.
    MockApi {
        /// The address to listen on.
        #[arg(long, default_value = "127.0.0.1:9090")]
        addr: SocketAddr,
        /// The service id.
        #[arg(long, env = "CLICK_SERVICE_ID")]
        service_id: ServiceId,
        /// The API user the `Auth` header must name.
        #[arg(long, env = "CLICK_MERCHANT_USER_ID")]
        merchant_user_id: MerchantUserId,
        /// The secret of the `Auth` digest.
        #[arg(long, env = "CLICK_SECRET_KEY", hide_env_values = true)]
        secret_key: String,
        /// How many seconds an `Auth` timestamp may be off the clock.
        #[arg(long, default_value_t = MockConfig::DEFAULT_MAX_SKEW.as_secs())]
        max_skew: u64,
        /// The SMS code every card token's holder receives (digits); by default one per token.
        #[arg(long)]
        sms_code: Option<String>,
        /// A payment Click made and debited, `MERCHANT_TRANS_ID:AMOUNT`, recorded at start (today,
        /// Tashkent time); its `payment_id` is printed. Repeatable.
        #[arg(long)]
        paid_payment: Vec<OrderSpec>,
    },
    /// Serve a fake Telegram Bot API for a bot selling through CLICK Terminal, until Ctrl-C;
    /// prints its URL (the bot's API URL). The `/fake/…` routes play the customer.
    BotApi {
        /// The address to listen on.
        #[arg(long, default_value = "127.0.0.1:8081")]
        addr: SocketAddr,
        /// The bot token it accepts.
        #[arg(long, env = "TELEGRAM_BOT_TOKEN", hide_env_values = true)]
        token: String,
        /// Milliseconds a pre-checkout query may wait for its answer (Telegram: 10 000).
        #[arg(long, default_value_t = 10_000)]
        deadline_ms: u64,
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
            click_tool,
            merchant_trans_ids,
            orders,
            paid_order,
            cancel_after_confirm,
            transport,
            json,
        } => {
            let target = Target::from(target);
            let options = Options {
                cancel_after_confirm,
                ..Options::default()
            };
            let mut report = if click_tool {
                let tool_orders = match <[_; 3]>::try_from(merchant_trans_ids) {
                    Ok(per_chain) => ToolOrders::PerChain(per_chain),
                    Err(mut ids) if ids.len() == 1 => ToolOrders::Account(ids.remove(0)),
                    Err(_) => {
                        eprintln!(
                            "--click-tool takes --merchant-trans-id once (an account) or three times (one order per chain)"
                        );
                        return ExitCode::from(2);
                    }
                };
                click_testkit::check_click_tool(&target, &tool_orders, options).await
            } else {
                if orders.len() < ORDERS_NEEDED {
                    eprintln!(
                        "note: a full run pays {ORDERS_NEEDED} orders; {} given",
                        orders.len()
                    );
                }
                click_testkit::check(&target, &orders, paid_order.as_ref(), options).await
            };
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
        Command::Load {
            base_urls,
            duplicates,
            resend_for,
            service_id,
            secret_key,
            orders,
            prefix,
            amount,
            concurrency,
            duration,
        } => {
            let targets = base_urls
                .iter()
                .map(|base| {
                    let base = base.trim_end_matches('/');
                    Target {
                        prepare_url: format!("{base}/click/prepare"),
                        complete_url: format!("{base}/click/complete"),
                        service_id,
                        secret_key: SecretKey::new(secret_key.clone()),
                    }
                })
                .collect();
            let plan = click_testkit::load::LoadPlan {
                targets,
                duplicates,
                resend_for: resend_for.map(std::time::Duration::from_secs),
                orders,
                prefix,
                amount,
                concurrency,
                duration: std::time::Duration::from_secs(duration),
            };
            let report = click_testkit::load::run(plan).await;
            println!("{report}");
            if report.failures.is_empty() {
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
        Command::MockApi {
            addr,
            service_id,
            merchant_user_id,
            secret_key,
            max_skew,
            sms_code,
            paid_payment,
        } => {
            if sms_code
                .as_deref()
                .is_some_and(|code| code.is_empty() || !code.bytes().all(|b| b.is_ascii_digit()))
            {
                eprintln!("--sms-code must be digits");
                return ExitCode::FAILURE;
            }
            let config = MockConfig {
                max_skew: Duration::from_secs(max_skew),
                sms_code,
                ..MockConfig::new(service_id, merchant_user_id, SecretKey::new(secret_key))
            };
            let mock = MockApi::new(config);
            match mock.start_on(addr).await {
                Ok(base_url) => {
                    println!("{base_url}");
                    for payment in paid_payment {
                        let id =
                            mock.record_payment(payment.amount, payment.id.clone(), Payment::PAID);
                        println!("payment {id} for {}", payment.id);
                    }
                    until_ctrl_c().await
                }
                Err(error) => {
                    eprintln!("cannot listen on {addr}: {error}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::BotApi {
            addr,
            token,
            deadline_ms,
        } => {
            let fake = FakeBotApi::with_deadline(token, Duration::from_millis(deadline_ms));
            match fake.start_on(addr).await {
                Ok(url) => {
                    println!("{url}");
                    until_ctrl_c().await
                }
                Err(error) => {
                    eprintln!("cannot listen on {addr}: {error}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

/// Serves until Ctrl-C.
async fn until_ctrl_c() -> ExitCode {
    match tokio::signal::ctrl_c().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("cannot wait for Ctrl-C: {error}");
            ExitCode::FAILURE
        }
    }
}
