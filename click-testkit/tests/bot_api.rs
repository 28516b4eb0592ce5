//! The fake Bot API over real HTTP, as a bot in any language sees it: the token, the methods'
//! bounds and Telegram's error shape, long polling, the pre-checkout rules, and the `/fake/…`
//! routes that play the customer.

use std::time::Duration;

use click_testkit::bot_api::FakeBotApi;
use serde_json::{Value, json};

const TOKEN: &str = "42:test-token";

struct Bot {
    http: reqwest::Client,
    base: String,
}

impl Bot {
    async fn start(telegram: &FakeBotApi) -> Self {
        let base = telegram.start().await.expect("the fake starts");
        Self {
            http: reqwest::Client::new(),
            base,
        }
    }

    /// Calls a method with a JSON body: the HTTP status and the answer.
    async fn call(&self, method: &str, params: Value) -> (u16, Value) {
        let url = format!("{}/bot{TOKEN}/{method}", self.base);
        self.send(json_body(self.http.post(url), &params)).await
    }

    /// Calls a `/fake/…` route.
    async fn control(&self, route: &str, body: Value) -> (u16, Value) {
        let url = format!("{}/fake/{route}", self.base);
        self.send(json_body(self.http.post(url), &body)).await
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> (u16, Value) {
        let response = request.send().await.expect("the fake answers");
        let status = response.status().as_u16();
        let body = response.bytes().await.expect("a body");
        (status, serde_json::from_slice(&body).expect("JSON"))
    }
}

fn json_body(request: reqwest::RequestBuilder, body: &Value) -> reqwest::RequestBuilder {
    request
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body.to_string())
}

fn invoice(payload: &str) -> Value {
    json!({
        "chat_id": 7,
        "title": "Order",
        "description": "One order",
        "payload": payload,
        "provider_token": "1:TEST:x",
        "currency": "UZS",
        "prices": [{ "label": "Order", "amount": 1_500_000 }]
    })
}

#[tokio::test]
async fn the_token_and_the_methods_are_checked_as_telegram_does() {
    let telegram = FakeBotApi::new(TOKEN);
    let bot = Bot::start(&telegram).await;
    let wrong = format!("{}/bot1:other/getMe", bot.base);
    let (status, body) = bot.send(bot.http.post(wrong)).await;
    assert_eq!((status, body["ok"].clone()), (401, json!(false)));
    let (status, body) = bot.call("getMe", json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(body["result"]["is_bot"], json!(true));
    assert_eq!(bot.call("noSuchMethod", json!({})).await.0, 404);

    assert_eq!(
        bot.call("sendInvoice", invoice(&"a".repeat(128))).await.0,
        200
    );
    let (status, body) = bot.call("sendInvoice", invoice(&"a".repeat(129))).await;
    assert_eq!(status, 400);
    assert_eq!(body["error_code"], json!(400));
    let mut free = invoice("o-1");
    free["provider_token"] = json!("");
    assert_eq!(bot.call("sendInvoice", free).await.0, 400);
    let mut zero = invoice("o-1");
    zero["prices"] = json!([{ "label": "Order", "amount": 0 }]);
    assert_eq!(bot.call("sendInvoice", zero).await.0, 400);
    // A form body, prices as a JSON string, as some bots send it.
    let form = [
        ("chat_id", "7"),
        ("title", "Order"),
        ("description", "One order"),
        ("payload", "o-2"),
        ("provider_token", "1:TEST:x"),
        ("currency", "UZS"),
        ("prices", r#"[{"label":"Order","amount":4200000}]"#),
    ];
    let url = format!("{}/bot{TOKEN}/sendInvoice", bot.base);
    assert_eq!(bot.send(bot.http.post(url).form(&form)).await.0, 200);
    let sent = telegram.invoices();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[1].total_amount, 4_200_000);
}

#[tokio::test]
async fn a_customer_pays_only_after_an_ok_answer() {
    let telegram = FakeBotApi::new(TOKEN);
    let bot = Bot::start(&telegram).await;
    assert_eq!(
        bot.control("press_pay", json!({ "user": 7 })).await.0,
        409,
        "no invoice"
    );
    assert_eq!(bot.call("sendInvoice", invoice("o-1")).await.0, 200);
    let (_, pressed) = bot.control("press_pay", json!({ "user": 7 })).await;
    let query_id = pressed["query_id"].as_str().expect("a query id").to_owned();
    let (_, updates) = bot.call("getUpdates", json!({ "timeout": 1 })).await;
    let query = &updates["result"][0]["pre_checkout_query"];
    assert_eq!(query["invoice_payload"], json!("o-1"));
    assert_eq!(query["total_amount"], json!(1_500_000));
    let paying = json!({ "query_id": query_id });
    assert_eq!(
        bot.control("complete_payment", paying.clone()).await.0,
        409,
        "not answered"
    );

    let refused = json!({ "pre_checkout_query_id": query_id, "ok": false });
    assert_eq!(
        bot.call("answerPreCheckoutQuery", refused).await.0,
        400,
        "no reason"
    );
    let approved = json!({ "pre_checkout_query_id": query_id, "ok": true });
    assert_eq!(
        bot.call("answerPreCheckoutQuery", approved.clone()).await.0,
        200
    );
    assert_eq!(
        bot.call("answerPreCheckoutQuery", approved).await.0,
        400,
        "answered once"
    );

    let (status, charge) = bot.control("complete_payment", paying).await;
    assert_eq!(status, 200);
    let offset = updates["result"][0]["update_id"].as_i64().expect("an id") + 1;
    let (_, updates) = bot
        .call("getUpdates", json!({ "offset": offset, "timeout": 1 }))
        .await;
    let payment = &updates["result"][0]["message"]["successful_payment"];
    assert_eq!(payment["currency"], json!("UZS"));
    assert_eq!(
        payment["telegram_payment_charge_id"],
        charge["telegram_payment_charge_id"]
    );
    // Delivered again, under a new update id, with the same payment.
    let (_, again) = bot
        .control("deliver_again", json!({ "update_id": charge["update_id"] }))
        .await;
    let next = again["update_id"].as_i64().expect("an id");
    let (_, updates) = bot
        .call("getUpdates", json!({ "offset": next, "timeout": 1 }))
        .await;
    assert_eq!(updates["result"][0]["update_id"], json!(next));
    assert_eq!(
        updates["result"][0]["message"]["successful_payment"],
        payment.clone()
    );
    let state = bot
        .send(bot.http.get(format!("{}/fake/state", bot.base)))
        .await
        .1;
    assert_eq!(state["charges"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn an_answer_after_the_deadline_is_refused_and_takes_no_money() {
    let telegram = FakeBotApi::with_deadline(TOKEN, Duration::from_millis(50));
    let bot = Bot::start(&telegram).await;
    assert_eq!(bot.call("sendInvoice", invoice("o-1")).await.0, 200);
    let query_id = telegram.press_pay(7).expect("an invoice was sent");
    bot.call("getUpdates", json!({})).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let approved = json!({ "pre_checkout_query_id": query_id, "ok": true });
    let (status, body) = bot.call("answerPreCheckoutQuery", approved).await;
    assert_eq!(status, 400);
    assert!(
        body["description"]
            .as_str()
            .is_some_and(|d| d.contains("too old")),
        "{body}"
    );
    assert!(telegram.answers()[0].late);
    assert!(telegram.complete_payment(&query_id).is_err());
}

#[tokio::test]
async fn get_updates_waits_for_an_update_and_confirms_by_offset() {
    let telegram = FakeBotApi::new(TOKEN);
    let bot = Bot::start(&telegram).await;
    let poll = {
        let bot = Bot {
            http: bot.http.clone(),
            base: bot.base.clone(),
        };
        tokio::spawn(async move { bot.call("getUpdates", json!({ "timeout": 30 })).await })
    };
    let id = telegram.message(7, "/start");
    let (_, updates) = poll.await.expect("no panic");
    assert_eq!(updates["result"][0]["update_id"], json!(id));
    assert_eq!(updates["result"][0]["message"]["text"], json!("/start"));
    assert!(!telegram.drained(), "not confirmed yet");
    let (_, none) = bot.call("getUpdates", json!({ "offset": id + 1 })).await;
    assert_eq!(none["result"], json!([]));
    assert!(telegram.drained());
}
