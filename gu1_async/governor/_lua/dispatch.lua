--! include head prelude waits admit queue
-- dispatch: the head's owner, when its `h` notice said the head's turn can come (a reset,
-- a pause's end): grant what the windows allow, and tell the head's owner again.
dispatch(true)
--! include epilogue
