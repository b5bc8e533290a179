"""Live previews of every node's output on the canvas (View > Previews)."""
