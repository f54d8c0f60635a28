package insights

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"time"
)

// The webhook (--insights-webhook) receives a JSON POST when an insight of
// a group with notifications on opens or closes, shaped like the event
// X-Ray sends to EventBridge: a detail-type and the insight in detail.
// Posts are queued and sent one at a time, each tried three times; a queue
// full because the receiver is down drops the newest (logged), never
// holding up detection.

const (
	webhookQueue   = 256
	webhookTries   = 3
	webhookTimeout = 10 * time.Second
)

// WebhookEvent is the body of a webhook POST.
type WebhookEvent struct {
	Version    string        `json:"version"`
	Source     string        `json:"source"`
	DetailType string        `json:"detail-type"`
	Time       string        `json:"time"`
	Detail     WebhookDetail `json:"detail"`
}

// WebhookDetail describes the insight.
type WebhookDetail struct {
	Event      string    `json:"Event"` // opened or closed
	InsightId  string    `json:"InsightId"`
	GroupName  string    `json:"GroupName"`
	GroupARN   string    `json:"GroupARN"`
	State      string    `json:"State"`
	Categories []string  `json:"Categories"`
	RootCause  Service   `json:"RootCauseServiceId"`
	Summary    string    `json:"Summary"`
	StartTime  int64     `json:"StartTime"`
	EndTime    int64     `json:"EndTime,omitempty"`
	Impacted   []Service `json:"ImpactedServices"`
}

type webhook struct {
	url   string
	log   *slog.Logger
	q     chan WebhookEvent
	done  chan struct{}
	hc    *http.Client
	sleep func(time.Duration, <-chan struct{})
}

func newWebhook(url string, log *slog.Logger) *webhook {
	return &webhook{url: url, log: log, q: make(chan WebhookEvent, webhookQueue), done: make(chan struct{}),
		hc: &http.Client{Timeout: webhookTimeout},
		sleep: func(d time.Duration, stop <-chan struct{}) {
			t := time.NewTimer(d)
			defer t.Stop()
			select {
			case <-t.C:
			case <-stop:
			}
		}}
}

func (w *webhook) enqueue(n Notification) {
	in := n.Insight
	e := WebhookEvent{Version: "0", Source: "roentgen.insights", DetailType: "X-Ray Insight Update",
		Time: time.Unix(in.LastUpdate, 0).UTC().Format(time.RFC3339),
		Detail: WebhookDetail{Event: n.Event, InsightId: in.ID, GroupName: in.Group, GroupARN: in.GroupARN, State: in.State,
			Categories: in.Categories, RootCause: in.RootCause, Summary: in.Summary, StartTime: in.Start, EndTime: in.End, Impacted: in.Impacted}}
	select {
	case w.q <- e:
	default:
		w.log.Warn("insights webhook queue is full; dropping an event", "insight", in.ID, "event", n.Event)
	}
}

// run posts queued events until stop, then those still queued (once each).
func (w *webhook) run(stop <-chan struct{}) {
	defer close(w.done)
	for {
		select {
		case e := <-w.q:
			w.post(e, stop)
		case <-stop:
			for {
				select {
				case e := <-w.q:
					w.post(e, nil)
				default:
					return
				}
			}
		}
	}
}

func (w *webhook) post(e WebhookEvent, stop <-chan struct{}) {
	body, _ := json.Marshal(e)
	var err error
	for try := 1; try <= webhookTries; try++ {
		if err = w.send(body); err == nil {
			return
		}
		if stop == nil || try == webhookTries {
			break
		}
		w.sleep(time.Duration(try)*time.Second, stop)
	}
	w.log.Error("insights webhook", "url", w.url, "insight", e.Detail.InsightId, "event", e.Detail.Event, "err", err)
}

func (w *webhook) send(body []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), webhookTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "roentgen-insights")
	resp, err := w.hc.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("the receiver answered %s", resp.Status)
	}
	return nil
}
