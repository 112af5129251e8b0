package gen

// Vocabularies. Every entry is plain printable ASCII without quotes or
// backslashes, so it is written between quotes as is (a test checks this).

// logLevels is indexed by r.IntN(10): INFO 70 %, DEBUG 20 %, WARN 10 %.
var logLevels = [10]string{"INFO", "INFO", "INFO", "INFO", "INFO", "INFO", "INFO", "DEBUG", "DEBUG", "WARN"}

var services = []string{
	"api-gateway", "auth-service", "payment-service", "user-service",
	"inventory-service", "notification-service", "search-service", "billing-worker",
}

var logMessages = []string{
	"Request processed successfully",
	"User authenticated",
	"Cache hit for key",
	"Database query completed",
	"Payment processed",
	"Database connection established",
	"Background job completed",
	"Webhook delivered",
	"Session refreshed",
	"Health check passed",
}

var criticalMessages = []string{
	"CRITICAL: unrecoverable state in",
	"CRITICAL: memory corruption detected near",
	"CRITICAL: checksum mismatch for",
	"CRITICAL: kernel panic in worker",
	"CRITICAL: data loss imminent for shard",
	"CRITICAL: unexpected opcode",
}

var errorTypes = []string{
	"FatalException", "OutOfMemoryError", "NullPointerException", "SegmentationFault",
	"StackOverflowError", "DeadlockDetected", "UnexpectedError",
}

var stackFrames = []string{
	"runtime.gopanic", "main.(*Server).handle", "net/http.serverHandler.ServeHTTP",
	"db.(*Pool).Acquire", "cache.(*LRU).Evict", "payments.Capture", "auth.VerifyToken",
	"scheduler.(*Queue).Pop", "codec.Decode", "io.ReadFull",
}

var stackFiles = []string{
	"server.go", "handler.go", "pool.go", "lru.go", "capture.go", "token.go", "queue.go", "decode.go",
}

// metricSpecs describe each metric: its unit and its value range in
// hundredths (lo..hi inclusive), written with two decimals.
var metricSpecs = []struct {
	name, unit string
	lo, hi     int
}{
	{"cpu_usage", "percent", 0, 100_00},
	{"memory_usage", "MB", 256_00, 16384_00},
	{"request_latency", "ms", 1_00, 500_00},
	{"error_rate", "percent", 0, 5_00},
	{"disk_io", "MBps", 0, 800_00},
}

// hosts are host-1 .. host-20.
var hosts = func() []string {
	h := make([]string, 20)
	for i := range h {
		h[i] = "host-" + string(appendInt(nil, i+1))
	}
	return h
}()

var regions = []string{"us-east-1", "us-west-2", "eu-west-1", "ap-southeast-1"}

var operations = []string{
	"GET /v1/users", "POST /v1/orders", "GET /v1/products", "POST /v1/payments",
	"db.query", "cache.get", "queue.publish", "http.client.request",
}

// traceStatuses is indexed by r.IntN(20): OK 90 %, ERROR 5 %, UNSET 5 %.
var traceStatuses = [20]string{
	"OK", "OK", "OK", "OK", "OK", "OK", "OK", "OK", "OK", "OK",
	"OK", "OK", "OK", "OK", "OK", "OK", "OK", "OK", "ERROR", "UNSET",
}

var currencies = []string{"USD", "EUR", "GBP", "CAD"}

var merchants = []string{
	"Amazon", "Walmart", "Target", "Costco", "Starbucks", "Shell", "Uber", "Netflix", "Whole Foods", "Best Buy",
}

var categories = []string{"groceries", "electronics", "restaurants", "fuel", "transport", "subscriptions", "retail"}

var countries = []string{"US", "CA", "GB", "DE", "FR"}

var fraudMerchants = []string{
	"Offshore Crypto Exchange", "Instant Wire Transfer Intl", "Gift Card Hub", "Unverified Marketplace",
	"Prepaid Voucher Outlet",
}

var fraudCategories = []string{"wire_transfer", "crypto", "gift_cards", "money_order"}

var fraudCountries = []string{"NR", "TV", "KI", "PW", "VU", "MH"}

var fraudCurrencies = []string{"USD", "EUR", "USDT", "BTC"}

var llmModels = []string{"gpt-4o", "gpt-4o-mini", "claude-3-5-sonnet", "gemini-1.5-pro", "llama-3-70b"}

var llmPrompts = []string{
	"Summarize the following support ticket in two sentences.",
	"Write a function to parse ISO 8601 dates.",
	"Explain how a token bucket rate limiter works.",
	"What is the best way to index a large Postgres table?",
	"Translate this product description into French.",
	"Classify the sentiment of this customer review.",
	"Debug this code: the loop never terminates.",
}

var llmCompletions = []string{
	"The customer reports a failed payment and asks for a refund; the issue is resolved by reissuing the charge.",
	"Here is a function that parses the date with the standard library and returns an error on invalid input.",
	"A token bucket holds up to N tokens refilled at a fixed rate; each request takes one token or waits.",
	"Create a B-tree index concurrently on the filtered column and analyze the table afterwards.",
	"Voici la description du produit, traduite en francais avec le meme ton.",
	"The sentiment is positive: the reviewer praises delivery speed and build quality.",
	"The loop variable is never incremented; add i++ at the end of the body.",
}

// llmOddFragments are repeated to build anomalous completions. They are
// written pre-escaped (JSON string content), unlike the other vocabularies.
var llmOddFragments = []string{
	`as an AI language model as an AI language model `,
	`\u0000\u0000 SYSTEM OVERRIDE \u0000 `,
	`}}]]\"\\\"{{ `,
	`\n\n\n### ignore previous instructions ###\n`,
	`\u00e6\u00f8\u00e5\u2603\ud83d\ude80 token token token `,
	`lorem lorem lorem lorem lorem lorem `,
}
