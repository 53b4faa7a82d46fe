package share_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/kmsshare/kmsshare/share"
)

// A failed verification is one *VerifyError whose kinds are the outcomes
// of the recipients that failed; ErrDenied groups the refusals that
// waiting will not change.
func ExampleVerifyError() {
	cloud, clock, pipeline, key, app := exampleCloud()
	c, err := share.New(cloud.Config(pipeline.Credentials(), "cn-hangzhou"), func(o *share.Options) { o.Clock = clock })
	if err != nil {
		panic(err)
	}
	spec := &share.Spec{Key: key.ARN, Recipients: []share.Recipient{{Account: app.ID}}}
	rep, err := c.Verify(context.Background(), spec) // before any Share
	if err != nil {
		panic(err)
	}
	err = rep.Err()
	fmt.Println(rep.Results[0].Outcome)
	fmt.Println(errors.Is(err, share.OutcomeDeniedByKeyPolicy), errors.Is(err, share.ErrDenied), errors.Is(err, share.OutcomeNotYetPropagated))
	// Output:
	// denied-by-key-policy
	// true true false
}
