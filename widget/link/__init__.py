"""The kernel's side of a widget's views: messages, transfers, status.

:class:`~widget.link.view_link.ViewLink` is the twin of the front end's ``ViewLink``
(``js/src/shared/kernel-link.ts``): it receives and validates every view's messages,
answers ``hello`` and ``ack``, sends plans, asset chunks and results, counts the bytes
sent, recycles the page's engine and forgets everything on close.
:class:`~widget.link.status.Status` is what a widget says it is doing, as data (stage,
source, numbers) with its words made from it; :class:`~widget.link.traits.LinkTraits`
are the traits every linked widget syncs to its views.
"""
