package dynamodao

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// URL parameters of a dynamodb:// URL, in the order the errors list them.
const (
	paramRegion   = "region"
	paramProfile  = "profile"
	paramEndpoint = "endpoint"
	paramCreds    = "creds"
)

var knownParams = []string{paramRegion, paramProfile, paramEndpoint, paramCreds}

// LocalRegion is the region a client gets when nothing names one and its
// endpoint is not AWS's (a DynamoDB Local, for example, which needs a region
// only to sign requests).
const LocalRegion = "us-east-1"

// URL is a parsed dynamodb:// store URL:
//
//	dynamodb://TABLE[?region=REGION][&profile=NAME][&endpoint=URL][&creds=local]
//
// The AWS configuration follows the SDK's standard chain, as the AWS CLI
// does, and the URL only overrides it where it says so:
//
//   - region: the region parameter, else AWS_REGION (or AWS_DEFAULT_REGION)
//     or the profile's region; with none of them, [URL.NewClient] fails, except
//     for an endpoint other than AWS's, which gets [LocalRegion].
//   - profile: the profile parameter, else AWS_PROFILE, else "default", from
//     the shared config and credentials files (AWS_CONFIG_FILE,
//     AWS_SHARED_CREDENTIALS_FILE).
//   - endpoint: the endpoint parameter (an http or https URL), else
//     AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL or the profile's
//     endpoint_url, else AWS's regional endpoint.
//   - credentials: the SDK's chain (environment, profile, SSO, web identity,
//     container and instance roles), unless creds=local asks for the static
//     credentials "local"/"local" that DynamoDB Local and other emulators
//     accept; creds=local needs an endpoint parameter, so that such
//     credentials are never sent to AWS.
//
// Any other parameter, or one given twice, is refused with the list of known
// ones, so a misspelt parameter never goes unnoticed.
type URL struct {
	Table    string
	Region   string // "" when the URL has none
	Profile  string // "" when the URL has none
	Endpoint string // "" when the URL has none
	// LocalCredentials is creds=local.
	LocalCredentials bool
}

// ParseURL parses and checks a dynamodb:// URL (see [URL]) without any call.
// Errors match [flagmigrate.ErrInvalidArgument] and never show the
// password of an endpoint URL.
func ParseURL(raw string) (*URL, error) {
	const op = "ParseURL"
	u, err := url.Parse(raw)
	if err != nil {
		return nil, argError(op, "not a URL: %v", redactErr(err))
	}
	if u.Scheme != "dynamodb" {
		return nil, argError(op, "scheme %q, want dynamodb://TABLE", u.Scheme)
	}
	if u.User != nil {
		return nil, argError(op, "dynamodb://%s: a user or password has no place before the table name (credentials come from the AWS configuration)", u.Host)
	}
	if u.Host == "" || strings.Trim(u.Path, "/") != "" {
		return nil, argError(op, "want dynamodb://TABLE?PARAMETERS, with a table name and no path")
	}
	if !tableNameRE.MatchString(u.Host) {
		return nil, argError(op, "table name %q is not a DynamoDB table name (3 to 255 of a-z A-Z 0-9 _ . -)", u.Host)
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return nil, argError(op, "dynamodb://%s: bad query: %v", u.Host, err)
	}
	out := &URL{Table: u.Host}
	for name, vals := range q {
		if !slices.Contains(knownParams, name) {
			return nil, argError(op, "dynamodb://%s: unknown parameter %q (known: %s)", u.Host, name, strings.Join(knownParams, ", "))
		}
		if len(vals) != 1 {
			return nil, argError(op, "dynamodb://%s: parameter %q given %d times", u.Host, name, len(vals))
		}
		if vals[0] == "" {
			return nil, argError(op, "dynamodb://%s: parameter %q is empty", u.Host, name)
		}
	}
	out.Region, out.Profile = q.Get(paramRegion), q.Get(paramProfile)
	if ep := q.Get(paramEndpoint); ep != "" {
		e, err := url.Parse(ep)
		if err != nil || (e.Scheme != "http" && e.Scheme != "https") || e.Host == "" {
			shown := "(not a URL)"
			if err == nil {
				shown = e.Redacted()
			}
			return nil, argError(op, "dynamodb://%s: endpoint %s is not an http(s) URL", u.Host, shown)
		}
		out.Endpoint = ep
	}
	switch c := q.Get(paramCreds); c {
	case "":
	case "local":
		if out.Endpoint == "" {
			return nil, argError(op, "dynamodb://%s: creds=local needs an endpoint parameter (static local credentials are never sent to AWS)", u.Host)
		}
		out.LocalCredentials = true
	default:
		return nil, argError(op, "dynamodb://%s: creds=%q: the only value is local (without it, the AWS credential chain is used)", u.Host, c)
	}
	return out, nil
}

// redactErr returns err's text with any URL password in it masked: url.Parse
// quotes the whole input in its errors.
func redactErr(err error) string {
	if ue, ok := err.(*url.Error); ok {
		return ue.Op + ": " + ue.Err.Error()
	}
	return err.Error()
}

// URLOptions configures [URL.NewClient] and [OpenURL]. A nil *URLOptions
// gives the defaults.
type URLOptions struct {
	// Logger receives the AWS SDK's log lines (see [NewSDKLogger]); nil
	// discards them, so that the SDK never writes to standard error.
	Logger *slog.Logger
	// LogMode is what the SDK logs (aws.LogRetries, aws.LogRequest, ...).
	LogMode aws.ClientLogMode
	// LoadOptions are passed to config.LoadDefaultConfig after the URL's.
	LoadOptions []func(*config.LoadOptions) error
	// ClientOptions are applied to the DynamoDB client after the URL's.
	ClientOptions []func(*dynamodb.Options)
	// Store configures the store of [OpenURL].
	Store *Options
}

// NewClient loads the AWS configuration the URL names (see [URL]) and
// returns a DynamoDB client. It makes no request, except those of the
// credential chain itself (for example to an SSO or instance-role endpoint)
// when credentials are first needed. Client().Options().BaseEndpoint is the
// endpoint in use, nil for AWS's regional one.
//
// Response checksum validation is turned off for endpoints that are not
// AWS's (amazonaws.com): DynamoDB Local and other DynamoDB-API servers omit
// the X-Amz-Crc32 header on error responses, which the SDK would report as a
// checksum mismatch.
func (u *URL) NewClient(ctx context.Context, opts *URLOptions) (*dynamodb.Client, error) {
	var o URLOptions
	if opts != nil {
		o = *opts
	}
	load := []func(*config.LoadOptions) error{
		config.WithLogger(NewSDKLogger(o.Logger)),
		config.WithClientLogMode(o.LogMode),
	}
	if u.Region != "" {
		load = append(load, config.WithRegion(u.Region))
	}
	if u.Profile != "" {
		load = append(load, config.WithSharedConfigProfile(u.Profile))
	}
	if u.LocalCredentials {
		load = append(load, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("local", "local", "")))
	}
	load = append(load, o.LoadOptions...)
	cfg, err := config.LoadDefaultConfig(ctx, load...)
	if err != nil {
		return nil, fmt.Errorf("dynamodao: loading the AWS configuration for dynamodb://%s: %v", u.Table, err)
	}
	var noRegion bool
	client := dynamodb.NewFromConfig(cfg, func(c *dynamodb.Options) {
		if u.Endpoint != "" {
			c.BaseEndpoint = aws.String(u.Endpoint)
		}
		if c.BaseEndpoint != nil && !isAWSEndpoint(*c.BaseEndpoint) {
			c.DisableValidateResponseChecksum = true
			if c.Region == "" {
				c.Region = LocalRegion
			}
		}
		noRegion = c.Region == ""
		for _, f := range o.ClientOptions {
			f(c)
		}
	})
	if noRegion {
		return nil, argError("NewClient", "dynamodb://%s: no AWS region: set region= in the URL, AWS_REGION, or a region in the AWS profile", u.Table)
	}
	return client, nil
}

// isAWSEndpoint reports whether endpoint is one of AWS's own hosts.
func isAWSEndpoint(endpoint string) bool {
	e, err := url.Parse(endpoint)
	if err != nil {
		return false
	}
	h := strings.ToLower(e.Hostname())
	return strings.HasSuffix(h, ".amazonaws.com") || strings.HasSuffix(h, ".amazonaws.com.cn")
}

// Where describes where client sends its requests, for messages: "AWS
// REGION" for AWS's regional endpoint, else the endpoint URL without user
// information and the region it signs for: "http://127.0.0.1:8000 (region
// us-east-1)".
func Where(client *dynamodb.Client) string {
	o := client.Options()
	if o.BaseEndpoint == nil {
		return "AWS " + o.Region
	}
	shown := "(unparsable endpoint)"
	if e, err := url.Parse(*o.BaseEndpoint); err == nil {
		e.User = nil
		shown = e.String()
	}
	return shown + " (region " + o.Region + ")"
}

// OpenURL returns a store on the table a dynamodb:// URL names (see [URL]),
// with a client made by [URL.NewClient]. Like [New], it makes no call: a
// missing table shows in the first operation.
func OpenURL(ctx context.Context, raw string, opts *URLOptions) (*Store, error) {
	u, err := ParseURL(raw)
	if err != nil {
		return nil, err
	}
	client, err := u.NewClient(ctx, opts)
	if err != nil {
		return nil, err
	}
	var so *Options
	if opts != nil {
		so = opts.Store
	}
	return New(client, u.Table, so)
}
