//! Run with `cargo run -p actix-shop`: the demo shop on actix-web, with Click's transactions in
//! memory. It takes a payment from the click-testkit emulator over HTTP, prints it, and exits 0
//! once the order is paid. `cargo run -p actix-shop -- serve --order o-1:1000` keeps serving.
//! Credentials come from the `CLICK_*` environment variables, else demo values.

use std::net::SocketAddr;
use std::process::ExitCode;

use actix_web::{App, HttpServer};
use clap::{Parser, Subcommand};
use click_core::{
    CallbackPaths, Keyring, MemoryOrders, MemoryStore, Order, SecretKey, ServiceId, Shop,
};
use click_testkit::{OrderSpec, Target};

/// The demo shop on actix-web.
#[derive(Parser)]
#[command(about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// The service id.
    #[arg(long, env = "CLICK_SERVICE_ID", default_value = "101", global = true)]
    service_id: ServiceId,
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
}

#[derive(Subcommand)]
enum Command {
    /// Keep serving the callbacks.
    Serve {
        /// Where to listen.
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: SocketAddr,
        /// A payable order, `ID:AMOUNT` (repeatable).
        #[arg(long = "order")]
        orders: Vec<OrderSpec>,
        /// An already paid order, `ID:AMOUNT` (repeatable).
        #[arg(long = "paid-order")]
        paid_orders: Vec<OrderSpec>,
    },
}

#[actix_web::main]
async fn main() -> std::io::Result<ExitCode> {
    let cli = Cli::parse();
    let orders = MemoryOrders::new();
    let shop = Shop::new(
        Keyring::new().service(cli.service_id, SecretKey::new(cli.secret_key.clone())),
        MemoryStore::new(orders.clone()),
    );
    let (addr, demo_order) = match &cli.command {
        Some(Command::Serve {
            addr,
            orders: seeds,
            paid_orders,
        }) => {
            for seed in seeds {
                orders.insert(
                    seed.id.clone(),
                    Order::Payable {
                        amount: seed.amount,
                    },
                );
            }
            for seed in paid_orders {
                orders.insert(seed.id.clone(), Order::Paid);
            }
            (*addr, None)
        }
        None => {
            let order: OrderSpec = "order-actix-1:15000"
                .parse()
                .map_err(std::io::Error::other)?;
            orders.insert(
                order.id.clone(),
                Order::Payable {
                    amount: order.amount,
                },
            );
            (
                "127.0.0.1:0".parse().map_err(std::io::Error::other)?,
                Some(order),
            )
        }
    };
    let server =
        HttpServer::new(move || App::new().configure(click_actix::configure(shop.clone())))
            .client_request_timeout(click_core::READ_TIMEOUT)
            .bind(addr)?;
    let address = server.addrs()[0];
    let urls = CallbackPaths::default()
        .urls(
            &format!("http://{address}/")
                .parse()
                .map_err(std::io::Error::other)?,
        )
        .map_err(std::io::Error::other)?;
    println!(
        "serving on http://{address}\n  Prepare URL:  {}\n  Complete URL: {}",
        urls.prepare, urls.complete
    );
    let running = server.run();
    let Some(order) = demo_order else {
        running.await?;
        return Ok(ExitCode::SUCCESS);
    };
    let handle = running.handle();
    actix_web::rt::spawn(running);
    let target = Target::new(&urls, cli.service_id, SecretKey::new(cli.secret_key));
    for (step, exchange) in ["Prepare", "Complete"]
        .iter()
        .zip(click_testkit::pay(&target, &order).await)
    {
        println!("\n{step}:\n{exchange}");
    }
    handle.stop(true).await;
    let paid = orders.get(&order.id) == Some(Order::Paid);
    println!(
        "\n{}",
        if paid {
            "Paid: the order is marked paid."
        } else {
            "NOT paid."
        }
    );
    Ok(if paid {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
