//! Run with `cargo run -p demo-shop`: an axum shop on 127.0.0.1, with Click's transactions in a
//! temporary SQLite file, takes a payment from the click-testkit emulator over HTTP, prints every
//! step; the settlement worker then fiscalizes it and reverses a second payment whose order sold
//! out, through the testkit's mock of the Merchant API; it exits 0 once all of it happened.
//!
//! `cargo run -p demo-shop -- serve --order o-1:1000 …` keeps serving instead (`--help` lists the
//! options). Credentials come from `--service-id`, `--merchant-id`, `--secret-key` or the
//! `CLICK_*` environment variables, else demo values.

mod account;
mod metrics;
mod pages;
mod settle;
mod soak;
mod store;

use std::future::IntoFuture;
use std::io::BufRead;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use clap::{Args, Parser, Subcommand};
use click_core::{
    CallbackPaths, CallbackUrls, Credentials, Keyring, MerchantId, MerchantUserId, Order,
    OrderStore, SecretKey, ServiceId, Shop, ShopEvent,
};
use click_testkit::OrderSpec;

use crate::account::AccountSpec;
use crate::pages::Pages;
use crate::settle::{DemoOrders, MerchantApi, SOLD_OUT};
use crate::store::StoreChoice;

/// A demo shop that accepts Click payments.
#[derive(Parser)]
#[command(about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    shop: ShopArgs,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the ceiling for load runs: callback routes that only parse the form and answer a
    /// constant JSON, with no store behind them.
    Ceiling {
        /// Where to listen.
        #[arg(long, default_value = "127.0.0.1:8081")]
        addr: SocketAddr,
    },
    /// Keep serving the callbacks and the order pages.
    Serve {
        /// Where to listen.
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: SocketAddr,
        /// A payable order, `ID:AMOUNT` (repeatable).
        #[arg(long = "order")]
        orders: Vec<OrderSpec>,
        /// A file of payable orders, one `ID:AMOUNT` a line.
        #[arg(long)]
        orders_file: Option<std::path::PathBuf>,
        /// An already paid order, `ID:AMOUNT` (repeatable).
        #[arg(long = "paid-order")]
        paid_orders: Vec<OrderSpec>,
        /// An account topped up by any number of payments, `ID` or `ID:MIN-MAX` (repeatable):
        /// `--account 123` passes Click's test tool with `merchant_trans_id` 123.
        #[arg(long = "account")]
        accounts: Vec<AccountSpec>,
    },
    /// Print the settlement's state in `--store`: tasks by kind and status, parked tasks,
    /// reversals awaiting approval, payments fiscalized and not.
    Settlement,
    /// Run the settlement worker alone, over `--store` and `--merchant-api`, until Ctrl-C.
    Worker,
    /// Play Click (with the testkit's mock of the Merchant API, faults injected) against a shop
    /// on `--store` whose settlement workers run elsewhere; then check and report.
    SettleSoak {
        /// Where the mock listens (the workers' `--merchant-api`).
        #[arg(long, default_value = "127.0.0.1:9191")]
        mock_addr: SocketAddr,
        /// Click payments to make.
        #[arg(long, default_value_t = 2000)]
        payments: usize,
        /// Payments made at once.
        #[arg(long, default_value_t = 16)]
        concurrency: usize,
        /// Seconds to wait for the workers to settle everything.
        #[arg(long, default_value_t = 300)]
        timeout: u64,
    },
}

#[derive(Args)]
struct ShopArgs {
    /// The service id.
    #[arg(long, env = "CLICK_SERVICE_ID", default_value = "101", global = true)]
    service_id: ServiceId,
    /// The merchant id, for payment links.
    #[arg(long, env = "CLICK_MERCHANT_ID", default_value = "202", global = true)]
    merchant_id: MerchantId,
    /// The merchant user id.
    #[arg(
        long,
        env = "CLICK_MERCHANT_USER_ID",
        default_value = "303",
        global = true
    )]
    merchant_user_id: MerchantUserId,
    /// The service's secret key.
    #[arg(
        long,
        env = "CLICK_SECRET_KEY",
        default_value = "demo-secret-key",
        hide_env_values = true,
        hide_default_value = true,
        global = true
    )]
    secret_key: String,
    /// Where Click's transactions live: memory, sqlite (a temporary file), sqlite:PATH,
    /// postgres://… or mysql://….
    #[arg(long, default_value = "sqlite", global = true)]
    store: StoreChoice,
    /// The most connections to a PostgreSQL or MySQL `--store`.
    #[arg(long, default_value_t = click_sqlx::POOL_SIZE, global = true)]
    db_connections: u32,
    /// The Merchant API the settlement worker calls (`https://api.click.uz/v2/merchant/` for
    /// Click's); by default the testkit's mock, started in this process.
    #[arg(long, env = "CLICK_MERCHANT_API_URL", global = true)]
    merchant_api: Option<String>,
    /// Seconds an attempt may wait for its Complete before the worker looks it up at Click.
    #[arg(long, default_value_t = 1800, global = true)]
    expire_after: u64,
    /// Seconds a worker holds a claimed task before another may take it over (a dead worker's
    /// tasks come back after this long).
    #[arg(long, default_value_t = 300, global = true)]
    lease: u64,
    /// Serve callbacks without running the settlement worker (run it elsewhere).
    #[arg(long, global = true)]
    no_worker: bool,
    /// Record no metrics (no recorder installed, `/metrics` answers 404): to measure their cost.
    #[arg(long, global = true)]
    no_metrics: bool,
    /// Log lines as `text`, or as `json` (one object a line, one line per callback).
    #[arg(long, default_value = "text", global = true)]
    log_format: LogFormat,
    /// Seconds to wait, once stopping (SIGTERM or Ctrl-C), for the callbacks in flight.
    #[arg(long, default_value_t = click_core::SHUTDOWN_TIMEOUT.as_secs(), global = true)]
    shutdown_timeout: u64,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum LogFormat {
    /// For a person at a terminal.
    Text,
    /// For a log shipper: one JSON object a line, with the callback span's fields.
    Json,
}

impl ShopArgs {
    /// The settlement worker's policy.
    fn policy(&self) -> click_settle::Policy {
        click_settle::Policy {
            expire_after: std::time::Duration::from_secs(self.expire_after),
            lease: std::time::Duration::from_secs(self.lease),
            idle: std::time::Duration::from_millis(200),
            ..click_settle::Policy::default()
        }
    }

    fn credentials(&self) -> Credentials {
        Credentials::new(
            self.service_id,
            self.merchant_id,
            self.merchant_user_id,
            SecretKey::new(self.secret_key.clone()),
        )
    }
}

/// A running shop.
struct Running {
    address: SocketAddr,
    urls: CallbackUrls,
    store_name: String,
    store: Arc<dyn OrderStore>,
    api: MerchantApi,
    /// The server, until its shutdown signal fired and the callbacks in flight were answered.
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

/// Builds the shop over `orders`, serves it on `addr` until `stop` fires, and runs the
/// settlement worker, in the background.
async fn start(
    args: &ShopArgs,
    orders: &DemoOrders,
    addr: SocketAddr,
    worker: bool,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<Running, Box<dyn std::error::Error>> {
    let credentials = args.credentials();
    let (store, store_name) = args.store.open(orders.clone(), args.db_connections).await?;
    let api = MerchantApi::new(args.merchant_api.as_deref(), &credentials).await?;
    if worker && !args.no_worker {
        settle::start_worker(Arc::clone(&store), &api, &credentials, args.policy())?;
    }
    let shop = Shop::with_shared_store(Keyring::from(&credentials), Arc::clone(&store)).on_event(|event| match event {
        ShopEvent::Confirmed(payment) => {
            tracing::info!(order = %payment.merchant_trans_id, amount = %payment.amount, "order paid");
        }
        ShopEvent::ReversalDue { transaction, reason } => {
            tracing::warn!(payment_id = %transaction.click_paydoc_id, ?reason, "reverse this payment");
        }
        _ => {}
    });
    let pages = Pages {
        credentials,
        orders: orders.book.clone(),
    };
    let mut app = Router::new()
        .route(
            "/orders/{id}",
            get(pages::order_page).post(pages::order_page),
        )
        .with_state(pages)
        .merge(click_axum::router(shop.clone()))
        .merge(click_axum::health(shop));
    if let Some(metrics) = metrics::exporter(args.no_metrics)? {
        app = app.route("/metrics", get(move || async move { metrics.render() }));
    }
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let address = listener.local_addr()?;
    let server = tokio::spawn(
        click_axum::serve(listener, app)
            .shutdown_timeout(std::time::Duration::from_secs(args.shutdown_timeout))
            .with_graceful_shutdown(stop)
            .into_future(),
    );
    let urls = CallbackPaths::default().urls(&format!("http://{address}/").parse()?)?;
    Ok(Running {
        address,
        urls,
        store_name,
        store,
        api,
        server,
    })
}

/// The default run: one order, paid by the emulator over HTTP, then fiscalized; and one whose
/// goods sold out, paid and then reversed.
async fn demo(args: &ShopArgs) -> Result<bool, Box<dyn std::error::Error>> {
    let orders = DemoOrders::default();
    let order: OrderSpec = format!("order-{}:25000", std::process::id()).parse()?;
    let sold_out: OrderSpec = format!("{SOLD_OUT}{}:12000", std::process::id()).parse()?;
    for spec in [&order, &sold_out] {
        orders.book.insert(
            spec.id.clone(),
            Order::Payable {
                amount: spec.amount,
            },
        );
    }
    let shop = start(
        args,
        &orders,
        "127.0.0.1:0".parse()?,
        true,
        std::future::pending(),
    )
    .await?;
    let credentials = args.credentials();
    let checkout = click_core::checkout::Checkout::from_credentials(
        &credentials,
        order.amount,
        order.id.clone(),
    );

    println!(
        "A demo shop is running at http://{} (transactions: {}).\n",
        shop.address, shop.store_name
    );
    println!(
        "Order {}: {} so'm, page http://{}/orders/{}",
        order.id, order.amount, shop.address, order.id
    );
    println!(
        "Payment link (opens the Click app on a phone):\n  {}",
        checkout.link()
    );
    match checkout.qr_terminal() {
        Ok(qr) => println!("{qr}"),
        Err(error) => println!("(no QR code: {error})"),
    }
    println!("URLs to register in the merchant cabinet (behind your public address):");
    println!(
        "  Prepare:  {}\n  Complete: {}\n",
        shop.urls.prepare, shop.urls.complete
    );
    let Some(mock) = &shop.api.mock else {
        return Err("the demo run needs the testkit's mock: leave out --merchant-api".into());
    };

    println!("Click (the click-testkit emulator) now pays the order:\n");
    let (prepare_url, complete_url) = (shop.urls.prepare.as_str(), shop.urls.complete.as_str());
    let secret = &credentials.secret_key;
    let paid = mock
        .pay_with_callbacks(&order.id, order.amount, prepare_url, complete_url, secret)
        .await?;
    let delivered = orders.book.get(&order.id) == Some(Order::Paid)
        && orders.book.delivery_count(&order.id) == 1;
    println!(
        "Paid: Click payment {paid}; order {} is {}.",
        order.id,
        if delivered {
            "marked paid, delivered once"
        } else {
            "NOT delivered"
        }
    );
    println!(
        "\nThen a customer pays order {}, whose goods are gone:",
        sold_out.id
    );
    let reversed = mock
        .pay_with_callbacks(
            &sold_out.id,
            sold_out.amount,
            prepare_url,
            complete_url,
            secret,
        )
        .await?;
    println!(
        "Click payment {reversed} was answered 0 (Click debited the customer); it is due for reversal.\n"
    );

    println!("The settlement worker settles both through the Merchant API (the testkit's mock):");
    let settled = tokio::time::timeout(std::time::Duration::from_secs(30), async {
        loop {
            let receipt = mock.ofd(paid).and_then(|ofd| ofd.qrcode);
            let refunded = mock.payment(reversed).map(|p| p.status)
                == Some(click_testkit::mock::Payment::REVERSED);
            if let (Some(receipt), true) = (receipt, refunded) {
                return receipt;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    })
    .await;
    let Ok(receipt) = settled else {
        println!(
            "NOT settled within 30 s:\n{}",
            click_settle::report(shop.store.as_ref()).await?
        );
        return Ok(false);
    };
    println!("  payment {paid} fiscalized: receipt {receipt}");
    println!("  payment {reversed} reversed: the customer has the money back\n");
    println!("{}", click_settle::report(shop.store.as_ref()).await?);
    Ok(delivered)
}

/// Serve mode: seed the orders and serve until stopped.
async fn serve(
    args: &ShopArgs,
    addr: SocketAddr,
    seeds: Vec<OrderSpec>,
    file: Option<std::path::PathBuf>,
    paid: Vec<OrderSpec>,
    accounts: Vec<AccountSpec>,
) -> Result<(), Box<dyn std::error::Error>> {
    let demo_orders = DemoOrders::default();
    let orders = &demo_orders.book;
    for seed in seeds {
        orders.insert(
            seed.id,
            Order::Payable {
                amount: seed.amount,
            },
        );
    }
    if let Some(path) = file {
        let started = std::time::Instant::now();
        let mut count = 0_usize;
        for (number, line) in std::io::BufReader::new(std::fs::File::open(&path)?)
            .lines()
            .enumerate()
        {
            let line = line?;
            if line.trim().is_empty() {
                continue;
            }
            let seed: OrderSpec = line
                .trim()
                .parse()
                .map_err(|error| format!("{}:{}: {error}", path.display(), number + 1))?;
            orders.insert(
                seed.id,
                Order::Payable {
                    amount: seed.amount,
                },
            );
            count += 1;
        }
        eprintln!(
            "loaded {count} orders from {} in {:?}",
            path.display(),
            started.elapsed()
        );
    }
    for seed in paid {
        orders.insert(seed.id, Order::Paid);
    }
    for account in accounts {
        orders.insert(account.id, account.order);
    }
    let shop = start(
        args,
        &demo_orders,
        addr,
        true,
        click_axum::shutdown_signal(),
    )
    .await?;
    let base = format!("http://{}/", shop.address);
    // One write, so that a script reading the log never sees half an address.
    let banner = format!(
        "serving on http://{} (transactions: {}; Merchant API: {})\n  Prepare URL:  {}\n  \
         Complete URL: {}\n  Health: {base}livez, {base}readyz{}\n",
        shop.address,
        shop.store_name,
        shop.api.base_url,
        shop.urls.prepare,
        shop.urls.complete,
        if args.no_metrics {
            String::new()
        } else {
            format!("; metrics: {base}metrics")
        },
    );
    eprint!("{banner}");
    shop.server.await??;
    eprintln!("stopped: every callback in flight was answered");
    Ok(())
}

/// Prints the settlement's state in the store.
async fn settlement(args: &ShopArgs) -> Result<(), Box<dyn std::error::Error>> {
    let (store, name) = args
        .store
        .open(DemoOrders::default(), args.db_connections)
        .await?;
    println!(
        "settlement in {name}:\n{}",
        click_settle::report(store.as_ref()).await?
    );
    Ok(())
}

/// Runs the settlement worker until Ctrl-C.
async fn worker(args: &ShopArgs) -> Result<(), Box<dyn std::error::Error>> {
    let credentials = args.credentials();
    let (store, name) = args
        .store
        .open(DemoOrders::default(), args.db_connections)
        .await?;
    let api = MerchantApi::new(args.merchant_api.as_deref(), &credentials).await?;
    settle::start_worker(store, &api, &credentials, args.policy())?;
    println!("settling {name} through {}", api.base_url);
    tokio::signal::ctrl_c().await?;
    Ok(())
}

/// Ceiling mode: the HTTP and form-parsing cost alone, for comparison with the real shop.
async fn ceiling(addr: SocketAddr) -> Result<(), Box<dyn std::error::Error>> {
    async fn answer(endpoint: click_core::Endpoint, body: axum::body::Bytes) -> &'static str {
        match click_core::Callback::parse(&body, endpoint) {
            Ok(_) => {
                r#"{"click_trans_id":1,"merchant_trans_id":"x","merchant_prepare_id":1,"merchant_confirm_id":1,"error":0,"error_note":"Success"}"#
            }
            Err(_) => r#"{"error":-8,"error_note":"Error in request from click"}"#,
        }
    }
    let app = Router::new()
        .route(
            "/click/prepare",
            axum::routing::post(|body| answer(click_core::Endpoint::Prepare, body)),
        )
        .route(
            "/click/complete",
            axum::routing::post(|body| answer(click_core::Endpoint::Complete, body)),
        );
    let listener = tokio::net::TcpListener::bind(addr).await?;
    println!("serving the ceiling on http://{}", listener.local_addr()?);
    click_axum::serve(listener, app)
        .with_graceful_shutdown(click_axum::shutdown_signal())
        .await?;
    Ok(())
}

/// Logs to stdout, as text or JSON. JSON logs every callback (`click_core` at info), one line
/// each with the span's fields; `RUST_LOG` overrides the levels. `serve`'s own lines for people
/// (where it listens, that it stopped) go to stderr, so that stdout holds logs alone.
fn init_logs(format: LogFormat) {
    let levels = match format {
        LogFormat::Text => "warn,demo_shop=info",
        LogFormat::Json => "warn,demo_shop=info,click_core=info,click_axum=info,click_settle=info",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(levels));
    let logs = tracing_subscriber::fmt().with_env_filter(filter);
    match format {
        LogFormat::Text => logs
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
            .init(),
        LogFormat::Json => logs
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .init(),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logs(cli.shop.log_format);
    let temporary = cli.shop.store.temporary_file();
    let outcome = match cli.command {
        None => demo(&cli.shop).await.map(|paid| {
            if paid {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }),
        Some(Command::Ceiling { addr }) => ceiling(addr).await.map(|()| ExitCode::SUCCESS),
        Some(Command::Settlement) => settlement(&cli.shop).await.map(|()| ExitCode::SUCCESS),
        Some(Command::Worker) => worker(&cli.shop).await.map(|()| ExitCode::SUCCESS),
        Some(Command::SettleSoak {
            mock_addr,
            payments,
            concurrency,
            timeout,
        }) => {
            let soak = soak::Soak {
                mock_addr,
                payments,
                concurrency,
                expire_after: std::time::Duration::from_secs(cli.shop.expire_after),
                timeout: std::time::Duration::from_secs(timeout),
            };
            soak::run(&cli.shop, soak).await.map(|passed| {
                if passed {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::FAILURE
                }
            })
        }
        Some(Command::Serve {
            addr,
            orders,
            orders_file,
            paid_orders,
            accounts,
        }) => serve(&cli.shop, addr, orders, orders_file, paid_orders, accounts)
            .await
            .map(|()| ExitCode::SUCCESS),
    };
    if let Some(path) = temporary {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
    }
    outcome.unwrap_or_else(|error| {
        eprintln!("demo-shop: {error}");
        ExitCode::FAILURE
    })
}
