"""The design canvas: a QGraphicsScene that mirrors one graph, its items, mouse interactions and
the view (zoom, pan, drops). Items and interactions only report gestures; the editor edits."""
