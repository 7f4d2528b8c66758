package mongodao

import (
	"context"
	"errors"
	"fmt"
	"net/url"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// URLOptions adapt what [OpenURL] makes.
type URLOptions struct {
	// Client, when set, changes the client's options after the URL's
	// connection string is applied (timeouts, a monitor, a logger).
	Client func(*options.ClientOptions)
	// Store are the store's options; the URL's layout replaces their
	// Layout.
	Store *Options
}

// OpenURL returns a store on the collection a store URL names (see
// [ParseURL]: unknown parameters are refused by name, and errors never show
// the password), in the URL's layout, with a client of its own that
// [Store.Close] disconnects. Like [New], it makes no call to the server:
// an unreachable server or a missing collection shows in the first
// operation (or ping it through Store.Collection().Database().Client()).
func OpenURL(ctx context.Context, raw string, opts *URLOptions) (*Store, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	u, err := ParseURL(raw)
	if err != nil {
		return nil, err
	}
	var o URLOptions
	if opts != nil {
		o = *opts
	}
	co := options.Client().ApplyURI(u.ClientURI)
	if o.Client != nil {
		o.Client(co)
	}
	client, err := mongo.Connect(co)
	if err != nil {
		return nil, fmt.Errorf("mongodao: store URL %s: %s", u.Redacted(), redactURLs(err))
	}
	var so Options
	if o.Store != nil {
		so = *o.Store
	}
	so.Layout = u.Layout
	s, err := New(client.Database(u.Database).Collection(u.Collection), &so)
	if err != nil {
		_ = client.Disconnect(ctx)
		return nil, err
	}
	s.owned = client
	return s, nil
}

// Close disconnects the client of a store that [OpenURL] made; a store made
// by [New] holds no client of its own, and Close does nothing. The store
// must not be used afterwards.
func (s *Store) Close(ctx context.Context) error {
	if s.owned == nil {
		return nil
	}
	return s.owned.Disconnect(ctx)
}

// redactURLs is the text of a driver error without the password of any URL
// it quotes.
func redactURLs(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return redactErr(ue)
	}
	return err.Error()
}
