package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flagmigrate/flagmigrate"
	"github.com/flagmigrate/flagmigrate/eventstore"
	"github.com/flagmigrate/flagmigrate/internal/localdynamo"
	"github.com/flagmigrate/flagmigrate/internal/redact"
	"github.com/flagmigrate/flagmigrate/memstore"
	"github.com/flagmigrate/flagmigrate/mongodao"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// scanStore is a store the backfill can scan.
type scanStore interface {
	flagmigrate.EventStore
	eventstore.EventScanner
}

// stores are the migration's two stores and where they live.
type stores struct {
	old, new         scanStore
	oldName, newName string
	close            func()
}

// openStores opens MongoDB and DynamoDB when configured, memstores otherwise.
// Real stores get a fresh collection and table, removed at close.
func openStores(ctx context.Context, cfg config) (*stores, error) {
	s := &stores{old: memstore.New(), new: memstore.New(), oldName: "MongoDB (in memory)", newName: "DynamoDB (in memory)"}
	var closers []func()
	s.close = func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
	suffix := fmt.Sprintf("%d", time.Now().UnixNano())
	if cfg.mongoURI != "" {
		client, err := mongo.Connect(options.Client().ApplyURI(cfg.mongoURI).SetServerSelectionTimeout(5 * time.Second))
		if err != nil {
			return nil, fmt.Errorf("MongoDB: %w", err)
		}
		coll := client.Database("flagmigrate_rollout").Collection("events_" + suffix)
		closers = append(closers, func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = coll.Drop(ctx)
			_ = client.Disconnect(ctx)
		})
		m, err := mongodao.New(coll, nil)
		if err == nil {
			err = m.EnsureIndexes(ctx)
		}
		if err != nil {
			s.close()
			return nil, fmt.Errorf("MongoDB: %w", err)
		}
		s.old, s.oldName = m, "MongoDB "+redact.String(cfg.mongoURI)
	}
	if cfg.dynamoEndpoint != "" {
		d, closeDynamo, err := localdynamo.Open(ctx, cfg.dynamoEndpoint, "rollout_"+suffix)
		if err != nil {
			s.close()
			return nil, fmt.Errorf("DynamoDB: %w", err)
		}
		closers = append(closers, closeDynamo)
		s.new, s.newName = d, "DynamoDB "+redact.String(cfg.dynamoEndpoint)
	}
	return s, nil
}

// errNetwork is the injected failure of a write to the new store.
var errNetwork = errors.New("rollout: injected network error writing to DynamoDB")

// teamDAO is the team's first DynamoDB DAO, as the service uses it. It has
// a bug: for one account it drops the "referrer" field of the events it
// writes (a mapping mistake that only that account's data triggers). And for
// one stage, the network to DynamoDB loses some writes.
type teamDAO struct {
	flagmigrate.EventStore
	bugAccount string
	dropPerMil atomic.Int64 // writes failed per thousand
	mu         sync.Mutex
	rng        *rand.Rand
}

func (d *teamDAO) StoreEvent(ctx context.Context, e flagmigrate.Event) error {
	if n := d.dropPerMil.Load(); n > 0 {
		d.mu.Lock()
		fail := d.rng.Int64N(1000) < n
		d.mu.Unlock()
		if fail {
			return errNetwork
		}
	}
	if e.AccountID == d.bugAccount && e.Data != nil {
		data := make(map[string]any, len(e.Data))
		for k, v := range e.Data {
			if k != "referrer" {
				data[k] = v
			}
		}
		e.Data = data
	}
	return d.EventStore.StoreEvent(ctx, e)
}
