"""The result cache: a stage whose inputs did not change since it last passed is reused.

`snapshot` reads the work tree through git, `fingerprint` identifies the stage's tool,
`key` combines them into one content key, `store` keeps passes under that key, `explain`
names what changed, `transfer` moves the store between CI jobs. The run's pipeline decides
when to look up and when to store.
"""
